// PLACEHOLDER: the accounts area (issue 3) defines the account side of an adapter here.
// deno-lint-ignore no-empty-interface
export interface AccountAdapter {}
