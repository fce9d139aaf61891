"""The training recipe as tooling: sanity checks (`specc check`) and the learning-rate range
test (`specc lr-find`), both run on the spec's own generated code and data."""
