/**
 * The credential files of shared/fixtures/credentials, which sits beside the
 * repository (in a developer's checkout and in CI's fresh clone alike).
 */
export const CREDENTIAL_FIXTURES = new URL(
  "../../../shared/fixtures/credentials/",
  import.meta.url,
);

export function credentialFixture(name: string): URL {
  return new URL(name, CREDENTIAL_FIXTURES);
}
