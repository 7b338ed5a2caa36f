// ggml tensor types by name, and conversion of F32 rows to and from any of them: what the model
// maker writes, what the op hooks feed a kernel, what a merge reads back from a frozen base.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ggml.h"

namespace mfner {

// The type named as ggml names it ("f32", "bf16", "q4_K", "iq2_xxs"; case-insensitive), or
// GGML_TYPE_COUNT. Only the types a tensor of a model can hold: those with a row converter.
ggml_type TypeByName(const std::string & name);

// Every type a model tensor can hold (TypeByName accepts each name), in ggml's order.
std::vector<ggml_type> ModelTensorTypes();

// Can rows of `n_per_row` values be written in `type`? "" if so, else why not (for an error).
std::string CannotEncode(ggml_type type, int64_t n_per_row);

// `rows` rows of `n_per_row` F32 values in `type` (quantized types that need an importance
// matrix get a uniform one: every column weighs the same).
std::vector<uint8_t> EncodeRows(ggml_type type, const float * src, int64_t rows, int64_t n_per_row);

// `n` values of `type` (whole rows, contiguous) as F32; throws ERR_UNSUPPORTED for a type
// without a converter.
void DecodeRows(ggml_type type, const void * src, float * dst, int64_t n);

}  // namespace mfner
