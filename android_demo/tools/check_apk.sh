#!/usr/bin/env bash
# The static checks of a built APK, each the one a phone (or the Play tooling) applies, with one
# line per failure naming what is wrong:
#   apksigner verify: v2 and v3 signatures (Android 7+ / 9+ require them for a targetSdk 30+ app)
#   zipalign -c -p 4: 4-byte aligned entries, page-aligned .so (or the install fails on Android 11+)
#   aapt dump badging: package, sdk levels, the launcher activity, arm64-v8a native code
#   aapt dump xmltree: extractNativeLibs true (the runner is exec'd as a file, so it must be extracted)
#   dexdump: the app's classes are in classes.dex
#   readelf: every lib/arm64-v8a file is AArch64 and every NEEDED library is in the APK
set -euo pipefail
apk=${1:?usage: check_apk.sh APK}
bt=/usr/lib/android-sdk/build-tools/debian
fail=0
bad() { echo "check_apk: $apk: $*" >&2; fail=1; }

verify=$("$bt/apksigner" verify --verbose "$apk" 2>&1) || bad "apksigner verify failed: $verify"
grep -q "Verified using v2 scheme (APK Signature Scheme v2): true" <<< "$verify" || bad "no v2 signature"
grep -q "Verified using v3 scheme (APK Signature Scheme v3): true" <<< "$verify" || bad "no v3 signature"
"$bt/zipalign" -c -p 4 "$apk" > /dev/null || bad "not aligned (zipalign -c -p 4)"

badging=$("$bt/aapt" dump badging "$apk" 2>&1) || bad "aapt dump badging failed: $badging"
for want in "package: name='org.edgecpm.demo'" "sdkVersion:'26'" "targetSdkVersion:'34'" \
            "launchable-activity: name='org.edgecpm.demo.PickerActivity'" "native-code: 'arm64-v8a'"; do
  grep -qF "$want" <<< "$badging" || bad "aapt dump badging lacks $want"
done
"$bt/aapt" dump xmltree "$apk" AndroidManifest.xml | grep -q 'extractNativeLibs.*=(type 0x12)0xffffffff' \
  || bad "android:extractNativeLibs is not true"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && unzip -q "$apk" classes.dex 'lib/*')
classes=$("$bt/dexdump" "$tmp/classes.dex" | grep "Class descriptor")
for cls in PickerActivity ChatActivity SettingsActivity core/ChatSession core/RunnerCommand; do
  grep -q "Lorg/edgecpm/demo/$cls;" <<< "$classes" || bad "classes.dex lacks org.edgecpm.demo.${cls//\//.}"
done

libs=$tmp/lib/arm64-v8a
for want in libld_glibc.so libedgecpm_runner.so; do
  [ -f "$libs/$want" ] || bad "lib/arm64-v8a/$want is missing"
done
for so in "$libs"/*; do
  name=$(basename "$so")
  [[ $name == lib*.so ]] || bad "lib/arm64-v8a/$name is not named lib*.so (the package manager would skip it)"
  readelf -h "$so" | grep -q "Machine:.*AArch64" || bad "lib/arm64-v8a/$name is not AArch64"
  for need in $(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [ "$need" = ld-linux-aarch64.so.1 ] || [ -f "$libs/$need" ] || bad "lib/arm64-v8a/$name needs $need, which is not in the APK"
  done
  if readelf -d "$so" | grep -qE "RPATH|RUNPATH"; then bad "lib/arm64-v8a/$name keeps a build-tree RPATH"; fi
done
[ "$fail" = 0 ] || exit 1
echo "check_apk: $apk: v2+v3 signed, aligned, org.edgecpm.demo sdk 26/34, launcher PickerActivity, extractNativeLibs," \
     "$(ls "$libs" | wc -l) AArch64 libraries with every NEEDED inside"
