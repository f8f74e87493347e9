/**
 * The credential files Kleis can import, in the shapes found on disk (made-up
 * values, expiries in 2030). They ship in tests/fixtures/credentials so a
 * clone with nothing beside it passes the suite.
 */
export const CREDENTIAL_FIXTURES = new URL("../fixtures/credentials/", import.meta.url);

export function credentialFixture(name: string): URL {
  return new URL(name, CREDENTIAL_FIXTURES);
}
