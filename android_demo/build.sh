#!/usr/bin/env bash
# Builds android_demo/build/edgecpm-demo.apk without Gradle or the Android SDK manager, from
# Debian's build tools (aapt2, zipalign, apksigner), bullseye's API 23 android.jar and dx
# (tools/fetch_bullseye.sh: pinned, sha256-checked), and the aarch64 runner of `make
# kernels-aarch64` packed as lib/arm64-v8a/lib*.so (tools/pack_native.py). Then checks what a
# phone's package manager checks (tools/check_apk.sh). The design notes are in
# /work/shared/design/ANDROID.md's terms: the exec-style app.
#
#   android_demo/build.sh [--asset-bundle DIR]   (DIR: an aarch64 bundle packed as assets/bundles/NAME)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
asset_bundle=""
while [ $# -gt 0 ]; do
  case "$1" in
    --asset-bundle) asset_bundle=${2:?--asset-bundle needs a bundle directory}; shift 2 ;;
    *) echo "build.sh: unknown argument '$1' (usage: build.sh [--asset-bundle DIR])" >&2; exit 2 ;;
  esac
done

build_tools=/usr/lib/android-sdk/build-tools/debian
cache=$repo/build/android                 # the fetched packages and the debug keystore live on
work=$here/build/work                     # rebuilt every time
native=$here/build/native/lib/arm64-v8a   # the packed runner (also the Gradle exec flavour's jniLibs)
apk=$here/build/edgecpm-demo.apk
runner=$repo/build/kernels/aarch64/edgecpm-runner
et_lib=$repo/build/executorch-aarch64/executorch/lib

for tool in aapt2 zipalign apksigner javac keytool patchelf readelf; do
  command -v "$tool" > /dev/null || [ -x "$build_tools/$tool" ] || {
    echo "build.sh: $tool is missing: apt-get install android-sdk android-sdk-build-tools apksigner zipalign aapt" \
         "default-jdk-headless patchelf binutils-aarch64-linux-gnu (see .ci/run)" >&2; exit 1; }
done
[ -x "$runner" ] || { echo "build.sh: $runner is not built: run make kernels-aarch64" >&2; exit 1; }
if [ -n "$asset_bundle" ] && [ ! -f "$asset_bundle/manifest.json" ]; then
  echo "build.sh: --asset-bundle $asset_bundle has no manifest.json: pass a folder written by edgecpm export" >&2; exit 1
fi

"$here/tools/fetch_bullseye.sh" "$cache/bullseye"
android_jar=$cache/bullseye/root/usr/lib/android-sdk/platforms/android-23/android.jar
dx_jar=$cache/bullseye/root/usr/lib/android-sdk/build-tools/debian/lib/dx.jar

rm -rf "$work" "$apk"
mkdir -p "$work/classes" "$work/gen" "$work/apk/lib" "$work/assets"

# 1. The native payload: the runner, its libraries and glibc's loader, renamed lib*.so.
python3 "$here/tools/pack_native.py" --runner "$runner" --lib-dir "$repo/build/kernels/aarch64" \
  --lib-dir "$et_lib" --sysroot /usr/aarch64-linux-gnu/lib "$native"
mkdir -p "$work/apk/lib"
cp -r "$native" "$work/apk/lib/"

# 2. Resources and manifest -> a resource-only APK plus R.java. aapt2 takes the sdk levels from
#    the manifest; android-23.jar is the framework it links against (targetSdk 34 is a number
#    in the manifest: it changes runtime behaviour, not what the app compiles against).
if [ -n "$asset_bundle" ]; then
  mkdir -p "$work/assets/bundles"
  cp -r "$asset_bundle" "$work/assets/bundles/$(basename "$asset_bundle")"
fi
"$build_tools/aapt2" compile --dir "$here/app/src/main/res" -o "$work/res.zip"
# (aapt2 notes that android.jar's resources.arsc is compressed, which only slows its reading.)
"$build_tools/aapt2" link -I "$android_jar" --manifest "$here/app/src/main/AndroidManifest.xml" \
  -A "$work/assets" --java "$work/gen" -o "$work/unsigned.apk" "$work/res.zip" \
  2> >(grep -v "resources.arsc in APK .* is compressed" >&2)

# 3. Java 8 bytecode against the framework, then dex. dx reads Java 8 class files only, and
#    --min-sdk-version 26 lets it keep default/static interface methods.
find "$here/app/src/main/java" "$work/gen" -name '*.java' > "$work/sources.txt"
javac -source 8 -target 8 -bootclasspath "$android_jar" -Xlint:-options -encoding UTF-8 \
  -d "$work/classes" @"$work/sources.txt"
java -cp "$dx_jar" com.android.dx.command.Main --dex --min-sdk-version=26 \
  --output="$work/apk/classes.dex" "$work/classes"

# 4. Add the dex and the libraries, align (every uncompressed entry on 4 bytes, .so pages with
#    -p), sign with v1-v3 and the project's debug key (made once, kept under build/android).
(cd "$work/apk" && zip -q -r "$work/unsigned.apk" classes.dex lib)
"$build_tools/zipalign" -p -f 4 "$work/unsigned.apk" "$work/aligned.apk"
keystore=$cache/debug.keystore
if [ ! -f "$keystore" ]; then
  keytool -genkeypair -keystore "$keystore" -storepass android -keypass android -alias edgecpm-debug \
    -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=edgecpm debug" > /dev/null 2>&1
fi
"$build_tools/apksigner" sign --ks "$keystore" --ks-pass pass:android --ks-key-alias edgecpm-debug \
  --v1-signing-enabled true --v2-signing-enabled true --v3-signing-enabled true \
  --out "$apk.partial" "$work/aligned.apk"
rm -f "$apk.partial.idsig"
mv "$apk.partial" "$apk"

"$here/tools/check_apk.sh" "$apk"
echo "built $apk ($(du -k "$apk" | cut -f1) KiB): org.edgecpm.demo, minSdk 26, targetSdk 34, arm64-v8a runner" \
     "($(ls "$native" | wc -l) native files)${asset_bundle:+, bundle $(basename "$asset_bundle") as assets}"
