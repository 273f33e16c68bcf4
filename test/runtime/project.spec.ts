/**
 * Which project the command works on (runtime/project.ts), a project's own contracts beside the
 * built-in ones, `contractIn`, and `signalpath init`'s scaffold — no broker, no package build.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { findProject, findProjectContract, FRAMEWORK_FROM_SOURCE, FRAMEWORK_ROOT, projectContracts } from '../../runtime/project.js';
import { topologyModule } from '../../runtime/topology-loader.js';
import { packageNameFor, scaffoldProject } from '../../runtime/packaging/scaffold.js';
import { contractIn, CONTRACTS } from '../../schemas/index.js';
import { signalpathSpec } from '../../cli/init-command.js';
import { PROJECT_ROOT } from '../support/kafka-fixtures.js';

const PAGE_VIEW = { type: 'record', name: 'PageView', namespace: 'com.example', fields: [{ name: 'user_id', type: 'string' }, { name: 'load_ms', type: 'double' }] };

describe('projects: where the command finds topologies and contracts', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'signalpath-project-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('this repository is the framework, from source', () => {
    expect(FRAMEWORK_ROOT).to.equal(PROJECT_ROOT);
    expect(FRAMEWORK_FROM_SOURCE).to.equal(true);
    const project = findProject(path.join(PROJECT_ROOT, 'runtime'));
    expect(project).to.deep.include({ root: PROJECT_ROOT, isFramework: true, topologiesDir: path.join(PROJECT_ROOT, 'topologies') });
    expect(topologyModule('passthrough', project)).to.equal(path.join(PROJECT_ROOT, 'topologies', 'passthrough', 'index.ts'));
  });

  it('a folder whose package.json depends on signalpath is a project, found from any folder below it', () => {
    writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'team', dependencies: { signalpath: '^0.1.0' } }));
    mkdirSync(path.join(tmp, 'topologies', 'a'), { recursive: true });
    writeFileSync(path.join(tmp, 'topologies', 'a', 'index.ts'), 'export default {};');
    const project = findProject(path.join(tmp, 'topologies', 'a'));
    expect(project).to.deep.equal({ root: tmp, topologiesDir: path.join(tmp, 'topologies'), schemasDir: undefined, isFramework: false });
    expect(topologyModule('a', project)).to.equal(path.join(tmp, 'topologies', 'a', 'index.ts'));
    expect(() => topologyModule('b', project)).to.throw(/unknown topology "b": expected one of a/);
  });

  it('signalpath.config.json moves the folders, and a bad one fails naming the field', () => {
    writeFileSync(path.join(tmp, 'signalpath.config.json'), JSON.stringify({ topologies: 'src/flows', schemas: 'contracts' }));
    mkdirSync(path.join(tmp, 'contracts'));
    expect(findProject(tmp)).to.deep.equal({ root: tmp, topologiesDir: path.join(tmp, 'src', 'flows'), schemasDir: path.join(tmp, 'contracts'), isFramework: false });
    writeFileSync(path.join(tmp, 'signalpath.config.json'), JSON.stringify({ topology: 'x' }));
    expect(() => findProject(tmp)).to.throw(/signalpath\.config\.json: .*topology/);
  });

  it('a project\'s contracts come beside the built-in ones, by name and folder; a clash with a built-in is refused', () => {
    writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ devDependencies: { signalpath: 'file:../x.tgz' } }));
    mkdirSync(path.join(tmp, 'schemas', 'page-view'), { recursive: true });
    writeFileSync(path.join(tmp, 'schemas', 'page-view', 'v1.avsc'), JSON.stringify(PAGE_VIEW));
    const contracts = projectContracts(findProject(tmp));
    expect(contracts.size).to.equal(CONTRACTS.size + 1);
    expect(findProjectContract(contracts, 'page-view')?.name).to.equal('com.example.PageView');
    expect(findProjectContract(contracts, 'com.example.PageView')?.folder).to.equal('page-view');
    expect(findProjectContract(contracts, 'mention')?.name).to.equal('dev.signalpath.Mention');
    mkdirSync(path.join(tmp, 'schemas', 'mention'));
    writeFileSync(path.join(tmp, 'schemas', 'mention', 'v1.avsc'), JSON.stringify({ ...PAGE_VIEW, name: 'Other' }));
    expect(() => projectContracts(findProject(tmp))).to.throw(/clashes with the built-in contract dev\.signalpath\.Mention/);
  });

  it('contractIn reads a contract of one\'s own and checks its key field', () => {
    mkdirSync(path.join(tmp, 'page-view'));
    writeFileSync(path.join(tmp, 'page-view', 'v1.avsc'), JSON.stringify(PAGE_VIEW));
    const contract = contractIn<{ user_id: string; load_ms: number }>(tmp, 'page-view', 'user_id');
    expect(contract).to.deep.include({ name: 'com.example.PageView', folder: 'page-view', version: 1, keyField: 'user_id' });
    expect(contract.type.isValid({ user_id: 'u', load_ms: 1 })).to.equal(true);
    expect(() => contractIn(tmp, 'page-view', 'nope')).to.throw(/keyField "nope" is not a field of com\.example\.PageView/);
    expect(() => contractIn(tmp, 'missing')).to.throw(/no contract folder missing\//);
  });
});

describe('signalpath init: the project scaffold', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'signalpath-init-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes a project that depends on signalpath, with a topology that imports the package', () => {
    const dir = path.join(tmp, 'My Monitors');
    const files = scaffoldProject({ dir, signalpathSpec: '^0.1.0', typescriptRange: '^5.9.3', typesNodeRange: '^24.0.0', topologyName: 'slow-inferences' });
    expect(files).to.include.members(['package.json', 'tsconfig.json', 'compose.yaml', 'README.md', 'topologies/slow-inferences/index.ts', 'topologies/slow-inferences/slow-inferences.spec.ts']);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; dependencies: object; devDependencies: object };
    expect(pkg).to.deep.include({ name: 'my-monitors', dependencies: { signalpath: '^0.1.0' }, devDependencies: { '@types/node': '^24.0.0', typescript: '^5.9.3' } });
    expect(findProject(dir)).to.deep.include({ root: dir, isFramework: false });
    const index = readFileSync(path.join(dir, 'topologies', 'slow-inferences', 'index.ts'), 'utf8');
    expect(index).to.include("from 'signalpath';").and.to.include("from 'signalpath/schemas';").and.to.not.match(/__[A-Z_]+__|\.\.\/\.\.\//);
    const spec = readFileSync(path.join(dir, 'topologies', 'slow-inferences', 'slow-inferences.spec.ts'), 'utf8');
    expect(spec).to.include("from 'signalpath/testing';").and.to.include("from './index.ts';").and.to.include("from 'node:test';");
    expect(() => scaffoldProject({ dir, signalpathSpec: '^0.1.0', typescriptRange: '', typesNodeRange: '', topologyName: 'x' })).to.throw(/is not empty/);
    expect(() => scaffoldProject({ dir: path.join(tmp, 'b'), signalpathSpec: '', typescriptRange: '', typesNodeRange: '', topologyName: 'Bad' })).to.throw(/--topology: "Bad" is not a valid topology name/);
  });

  it('--from: a version range as it is, a path as file:<absolute path>', () => {
    expect(signalpathSpec(undefined, '0.1.0')).to.equal('^0.1.0');
    expect(signalpathSpec('~0.2.0', '0.1.0')).to.equal('~0.2.0');
    writeFileSync(path.join(tmp, 'signalpath-0.1.0.tgz'), '');
    expect(signalpathSpec(path.join(tmp, 'signalpath-0.1.0.tgz'), '0.1.0')).to.equal(`file:${path.join(tmp, 'signalpath-0.1.0.tgz')}`);
    expect(packageNameFor('/x/.Hidden Thing')).to.equal('hidden-thing');
  });
});
