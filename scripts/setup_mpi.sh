#!/usr/bin/env bash
# Open MPI for the MPI mode (swmlir run --ranks N, test/python/test_mpi.py): mpirun and mpicc from Debian's
# packages (openmpi-bin, libopenmpi-dev). Idempotent: nothing happens when both are on the PATH. Installed with
# apt-get when running as root (CI: a fresh Debian machine, as root); otherwise a note, and the MPI tests skip.
set -euo pipefail
if command -v mpirun >/dev/null && command -v mpicc >/dev/null; then exit 0; fi
pkgs=(openmpi-bin libopenmpi-dev)
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup: mpirun/mpicc not found; the MPI mode needs Open MPI (Debian: sudo apt-get install ${pkgs[*]});" \
       "until then the MPI tests are skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing Open MPI (${pkgs[*]}) with apt-get" >&2
# a fresh machine may have no package lists yet: update only when the install cannot find the packages
apt-get install -y -q "${pkgs[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${pkgs[@]}" >/dev/null; }
command -v mpirun >/dev/null && command -v mpicc >/dev/null || { echo "setup: Open MPI installed but mpirun/mpicc are not on the PATH" >&2; exit 1; }
