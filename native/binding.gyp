{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "cxx11_abi%": "<!(node -p \"process.env.TORCH_CXX11_ABI || '1'\")"
  },
  "targets": [
    {
      "target_name": "alphanet_native",
      "sources": ["tensor.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "_GLIBCXX_USE_CXX11_ABI=<(cxx11_abi)"
      ],
      "libraries": ["-ltorch", "-ltorch_cpu", "-lc10", "-Wl,-z,now"],
      "conditions": [
        ["libtorch!=''", {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib"]
        }]
      ]
    }
  ]
}
