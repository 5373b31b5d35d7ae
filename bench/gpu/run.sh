#!/usr/bin/env bash
# Runs the packed GPU bench (bench/gpu/pack.sh) on a GPU machine, from the repository root, with
# .gpu/ and, where the system lacks the Vulkan loader, .gl/ (Debian's libvulkan1 .deb) carried along.
# Arguments go to train.ts; the report goes to $OUT/benchmarks-gpu.json (or ./benchmarks-gpu.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for deb in .gl/*.deb; do dpkg -x "$deb" /; done
  ldconfig
fi
# The NVIDIA driver's Vulkan ICD, where the container runtime mounts it outside the usual places.
if [ -z "${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] && export VK_DRIVER_FILES="$icd" && break
  done
fi
node=.gpu/node
[ -x "$node" ] || { xz -dc .gpu/node.xz >"$node" && chmod +x "$node"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-(system default)}"
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null || true
"$node" --version
report="${OUT:-.}/benchmarks-gpu.json"
"$node" .gpu/train.mjs --report "$report" "$@"
