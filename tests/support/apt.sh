# Sourced by the install scripts that need Debian packages: $SUDO is "sudo"
# when not root and sudo is there (else empty: root, or apt fails with its
# own message), and apt_install installs the given packages.
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

apt_install() {
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "$@"
}
