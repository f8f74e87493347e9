// PLACEHOLDER: the proxy area (issue 4) defines the proxy side of an adapter here.
// deno-lint-ignore no-empty-interface
export interface ProxyAdapter {}
