# node-gyp path: compiles the same addon sources against the llama.cpp static libraries that
# the CMake build (npm install) left in build-cmake/. Use it with `npm run build:gyp` when you
# change only native/*.cpp and want node-gyp's toolchain handling (e.g. a distro's node-gyp
# policy, or a debugger set-up that expects build/). CPU only: CUDA builds go through CMake.
{
  "variables": {
    "llama": "deps/llama.cpp",
    "libs": "build-cmake/llama"
  },
  "targets": [
    {
      "target_name": "mfner",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native').filter(f => f.endsWith('.cpp')).map(f => 'native/' + f).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(llama)/include",
        "<(llama)/common",
        "<(llama)/ggml/include",
        "<(llama)/vendor"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "MFNER_CUDA=0"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++1y", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-Wno-unused-function", "-Wno-unused-variable"],
      "libraries": [
        "<(module_root_dir)/<(libs)/common/libllama-common.a",
        "<(module_root_dir)/<(libs)/common/libllama-common-base.a",
        "<(module_root_dir)/<(libs)/vendor/cpp-httplib/libcpp-httplib.a",
        "<(module_root_dir)/<(libs)/src/libllama.a",
        "<(module_root_dir)/<(libs)/ggml/src/libggml.a",
        "<(module_root_dir)/<(libs)/ggml/src/libggml-cpu.a",
        "<(module_root_dir)/<(libs)/ggml/src/libggml-base.a",
        "-lpthread",
        "-ldl",
        "-Wl,--exclude-libs,ALL"
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      }
    }
  ]
}
