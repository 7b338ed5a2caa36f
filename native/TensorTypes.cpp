#include "TensorTypes.h"

#include <cctype>
#include <cstring>

#include "util.h"

namespace mfner {

namespace {

bool HasConverters(ggml_type t) {
    const ggml_type_traits * tr = ggml_get_type_traits(t);
    if (t == GGML_TYPE_F32) return true;
    // a model tensor type has a row converter and a size (removed types keep a name but no size)
    return tr && tr->to_float && tr->blck_size > 0 && tr->type_size > 0 && (tr->is_quantized || t == GGML_TYPE_F16 || t == GGML_TYPE_BF16);
}

}  // namespace

ggml_type TypeByName(const std::string & name) {
    const std::string want = LowerAscii(name);
    for (int i = 0; i < GGML_TYPE_COUNT; ++i) {
        const ggml_type t = static_cast<ggml_type>(i);
        const char * n = ggml_type_name(t);
        if (n && LowerAscii(n) == want && HasConverters(t)) return t;
    }
    return GGML_TYPE_COUNT;
}

std::vector<ggml_type> ModelTensorTypes() {
    std::vector<ggml_type> out;
    for (int i = 0; i < GGML_TYPE_COUNT; ++i) {
        if (HasConverters(static_cast<ggml_type>(i))) out.push_back(static_cast<ggml_type>(i));
    }
    return out;
}

std::string CannotEncode(ggml_type type, int64_t n_per_row) {
    if (type == GGML_TYPE_F32 || type == GGML_TYPE_F16 || type == GGML_TYPE_BF16) return "";
    const int64_t blck = ggml_blck_size(type);
    if (n_per_row % blck != 0) {
        return std::string(ggml_type_name(type)) + " packs rows in blocks of " + std::to_string(blck) + " values; a row has " + std::to_string(n_per_row);
    }
    return "";
}

std::vector<uint8_t> EncodeRows(ggml_type type, const float * src, int64_t rows, int64_t n_per_row) {
    const std::string why = CannotEncode(type, n_per_row);
    if (!why.empty()) throw CodedError("ERR_INVALID_ARG", why);
    std::vector<uint8_t> out(ggml_row_size(type, n_per_row) * static_cast<size_t>(rows));
    const int64_t n = rows * n_per_row;
    if (type == GGML_TYPE_F32) {
        std::memcpy(out.data(), src, out.size());
    } else if (type == GGML_TYPE_F16) {
        ggml_fp32_to_fp16_row(src, reinterpret_cast<ggml_fp16_t *>(out.data()), n);
    } else if (type == GGML_TYPE_BF16) {
        ggml_fp32_to_bf16_row_ref(src, reinterpret_cast<ggml_bf16_t *>(out.data()), n);
    } else {
        std::vector<float> uniform;
        if (ggml_quantize_requires_imatrix(type)) uniform.assign(static_cast<size_t>(n_per_row), 1.0f);
        ggml_quantize_init(type);
        ggml_quantize_chunk(type, src, out.data(), 0, rows, n_per_row, uniform.empty() ? nullptr : uniform.data());
    }
    return out;
}

void DecodeRows(ggml_type type, const void * src, float * dst, int64_t n) {
    if (type == GGML_TYPE_F32) {
        std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
        return;
    }
    const ggml_type_traits * tr = ggml_get_type_traits(type);
    if (!tr || !tr->to_float) throw CodedError("ERR_UNSUPPORTED", std::string("tensor type ") + ggml_type_name(type) + " cannot be read as F32");
    tr->to_float(src, dst, n);
}

}  // namespace mfner
