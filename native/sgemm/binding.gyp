{
  "targets": [
    {
      "target_name": "parley_sgemm",
      "sources": ["sgemm.c"],
      "cflags": ["-O2"],
      "libraries": ["-lopenblas"]
    }
  ]
}
