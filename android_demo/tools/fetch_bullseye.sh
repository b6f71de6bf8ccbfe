#!/usr/bin/env bash
# Fetches the two pieces of the Android build that the current Debian suite lacks: the API 23
# android.jar (libandroid-23-java) and the dexer dx (dalvik-exchange), both from Debian bullseye.
# An isolated apt state (its own sources, lists and cache under OUT) leaves the system's apt
# configuration untouched; the versions are pinned and each .deb's sha256 is checked before it is
# unpacked, so a changed archive stops the build instead of building with something else.
#
#   fetch_bullseye.sh OUT   ->  OUT/root/usr/share/java/{com.android.android-23.jar,com.android.dx-10.0.0.jar}
set -euo pipefail
out=${1:?usage: fetch_bullseye.sh OUT}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$out/root
stamp=$out/.fetched

# package  version  sha256 of the .deb
pins="dalvik-exchange 10.0.0+r36-1 8fc128db7c27253d963eb9b33de79b197162a4749d2ba69019b2fd0664cbd7fe
libandroid-23-java 6.0.1+r72-6 8af1b6df556971dda0a6da3536ea526a838e0c363afcdd454213d8bce94793e3"

[ -f "$stamp" ] && exit 0

# The mirror the system's own Debian source uses (a snapshot here, deb.debian.org elsewhere).
uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}' || true)
if [ -z "$uri" ]; then
  uri=$(grep -h -m1 '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{for (i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' || true)
fi
uri=${uri:-http://deb.debian.org/debian}

apt_dir=$out/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$apt_dir/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bullseye main" > "$apt_dir/sources.list"
cat > "$apt_dir/apt.conf" <<CONF
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/sources.list.d";
Dir::State::Lists "$apt_dir/lists";
Dir::Cache "$apt_dir/cache";
APT::Sandbox::User "root";
CONF
export APT_CONFIG=$apt_dir/apt.conf
apt-get -qq update
cd "$apt_dir/debs"
rm -f ./*.deb
while read -r name version sha; do
  apt-get -qq download "$name=$version"
  deb=$(ls "${name}_"*.deb)
  got=$(sha256sum "$deb" | awk '{print $1}')
  if [ "$got" != "$sha" ]; then
    echo "fetch_bullseye: $deb has sha256 $got, expected $sha; the archive changed: check the package and update the pin in $0" >&2
    exit 1
  fi
  dpkg -x "$deb" "$root"
done <<< "$pins"
touch "$stamp"
