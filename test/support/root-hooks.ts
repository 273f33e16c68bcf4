// Placeholder until the local broker fixture lands.
export const mochaHooks = {};
