// A test hook: the CPU kernels of patch 0007 (out_prod) are only reached through training
// graphs, where a wrong tile edge would show up as a slightly wrong gradient. Running the op on
// its own lets a test compare it with a plain reference over awkward shapes and strides.
#include "OpCheck.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"
#include "TensorTypes.h"
#include "util.h"

namespace mfner {
namespace {

std::array<int64_t, 4> Shape(const Napi::Env & env, const Napi::Value & v, const char * what) {
    if (!v.IsArray()) Throw(env, "ERR_INVALID_ARG", std::string(what) + " must be an array of 1 to 4 sizes");
    Napi::Array a = v.As<Napi::Array>();
    if (a.Length() < 1 || a.Length() > 4) Throw(env, "ERR_INVALID_ARG", std::string(what) + " must have 1 to 4 sizes");
    std::array<int64_t, 4> ne{1, 1, 1, 1};
    for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value d = a.Get(i);
        if (!d.IsNumber() || d.As<Napi::Number>().Int64Value() < 1) Throw(env, "ERR_INVALID_ARG", std::string(what) + " sizes must be positive integers");
        ne[i] = d.As<Napi::Number>().Int64Value();
    }
    return ne;
}

Napi::Float32Array Floats(const Napi::Env & env, const Napi::Value & v, int64_t n, const char * what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        Throw(env, "ERR_INVALID_ARG", std::string(what) + " must be a Float32Array");
    }
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    if (static_cast<int64_t>(a.ElementLength()) != n) Throw(env, "ERR_INVALID_ARG", std::string(what) + " length does not match its shape");
    return a;
}

using Context = std::unique_ptr<ggml_context, decltype(&ggml_free)>;

// A CPU context holding `floats` of tensor data plus room for a few tensors and one graph.
Context NewContext(const Napi::Env & env, int64_t floats) {
    ggml_init_params params{floats * sizeof(float) + 16 * ggml_tensor_overhead() + ggml_graph_overhead() + 1024, nullptr, false};
    Context ctx(ggml_init(params), &ggml_free);
    if (!ctx) Throw(env, "ERR_NO_MEMORY", "cannot allocate the op's context");
    return ctx;
}

ggml_tensor * Filled(ggml_context * ctx, const std::array<int64_t, 4> & ne, const Napi::Float32Array & data) {
    ggml_tensor * t = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, ne[0], ne[1], ne[2], ne[3]);
    std::memcpy(t->data, data.Data(), ggml_nbytes(t));
    return t;
}

// Computes `out` on the CPU backend `repeat` times (the work buffer outside the context).
void Compute(const Napi::Env & env, ggml_context * ctx, ggml_tensor * out, int threads, int repeat) {
    ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, out);
    ggml_cplan plan = ggml_graph_plan(gf, threads, nullptr);
    std::vector<uint8_t> work(plan.work_size);
    plan.work_data = work.data();
    for (int r = 0; r < repeat; r++) {
        if (ggml_graph_compute(gf, &plan) != GGML_STATUS_SUCCESS) Throw(env, "ERR_COMPUTE", "the op failed");
    }
}

enum class Op { OutProduct, MulMat };

// ggml_out_prod(a [n,k,a2,a3], b [m,k,b2,b3]) -> [n,m,b2,b3];
// ggml_mul_mat (a [k,n,a2,a3], b [k,m,b2,b3]) -> [n,m,b2,b3]; b2 % a2 == 0, b3 % a3 == 0 for both
Napi::Value Run(const Napi::CallbackInfo & info, Op op) {
    Napi::Env env = info.Env();
    const auto sa = Shape(env, info[1], "aShape");
    const auto sb = Shape(env, info[3], "bShape");
    Napi::Object opts = OptObject(info, 4);
    const bool transposeB = OptBool(opts, "transposeB", false);
    const int threads = static_cast<int>(OptNumber(opts, "threads", 1));
    const int repeat = static_cast<int>(OptNumber(opts, "repeat", 1));  // for timing the op alone
    // src0 in another type (a frozen F16/BF16/quantized base's weight: out_prod is patch 0012's)
    const std::string aTypeName = OptString(opts, "aType", "f32");
    const ggml_type aType = TypeByName(aTypeName);
    if (aType == GGML_TYPE_COUNT) Throw(env, "ERR_INVALID_ARG", "aType must name a ggml tensor type");
    const std::string unencodable = CannotEncode(aType, sa[0]);
    if (!unencodable.empty()) Throw(env, "ERR_INVALID_ARG", unencodable);
    const int64_t na = sa[0] * sa[1] * sa[2] * sa[3];
    const int64_t nb = sb[0] * sb[1] * sb[2] * sb[3];
    Napi::Float32Array a = Floats(env, info[0], na, "a");
    Napi::Float32Array b = Floats(env, info[2], nb, "b");
    const int kdim = op == Op::OutProduct ? 1 : 0;
    if (sa[kdim] != sb[kdim] || sb[2] % sa[2] != 0 || sb[3] % sa[3] != 0 || threads < 1 || repeat < 1 || (op == Op::MulMat && transposeB)) {
        Throw(env, "ERR_INVALID_ARG", op == Op::OutProduct
            ? "shapes do not fit ggml_out_prod (a [n,k,a2,a3], b [m,k,b2,b3], b2 % a2 == 0, b3 % a3 == 0)"
            : "shapes do not fit ggml_mul_mat (a [k,n,a2,a3], b [k,m,b2,b3], b2 % a2 == 0, b3 % a3 == 0, b not transposed)");
    }
    const int64_t n_out = sa[1 - kdim] * sb[1 - kdim] * sb[2] * sb[3];

    Context ctx = NewContext(env, na + nb + n_out);
    ggml_tensor * ta;
    if (aType == GGML_TYPE_F32) {
        ta = Filled(ctx.get(), sa, a);
    } else {
        ta = ggml_new_tensor_4d(ctx.get(), aType, sa[0], sa[1], sa[2], sa[3]);
        const std::vector<uint8_t> bytes = EncodeRows(aType, a.Data(), na / sa[0], sa[0]);
        std::memcpy(ta->data, bytes.data(), bytes.size());
    }
    // transposed: stored as [k, m, ...], the op sees its transpose [m, k, ...] (strided, as in backward passes)
    ggml_tensor * tb = transposeB ? ggml_transpose(ctx.get(), Filled(ctx.get(), {sb[1], sb[0], sb[2], sb[3]}, b)) : Filled(ctx.get(), sb, b);
    // a typed a is a model weight, as in a loaded model: a host buffer marked WEIGHTS (patch 0014
    // converts only weights, never a KV cache view); aWeight: false leaves it a plain tensor
    // (llama.cpp's own paths, for comparisons)
    std::unique_ptr<void, decltype(&std::free)> aligned(nullptr, &std::free);
    std::unique_ptr<ggml_backend_buffer, decltype(&ggml_backend_buffer_free)> weights(nullptr, &ggml_backend_buffer_free);
    if (aType != GGML_TYPE_F32 && OptBool(opts, "aWeight", true)) {
        const size_t bytes = ggml_nbytes(ta);
        aligned.reset(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
        std::memcpy(aligned.get(), ta->data, bytes);
        ta->data = aligned.get();
        weights.reset(ggml_backend_cpu_buffer_from_ptr(ta->data, bytes));
        ggml_backend_buffer_set_usage(weights.get(), GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
        ta->buffer = weights.get();
    }
    ggml_tensor * out = op == Op::OutProduct ? ggml_out_prod(ctx.get(), ta, tb) : ggml_mul_mat(ctx.get(), ta, tb);
    Compute(env, ctx.get(), out, threads, repeat);
    Napi::Float32Array result = Napi::Float32Array::New(env, n_out);
    std::memcpy(result.Data(), out->data, n_out * sizeof(float));
    return result;
}

}  // namespace

Napi::Value CrossEntropy(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const auto shape = Shape(env, info[2], "shape");
    Napi::Object opts = OptObject(info, 3);
    const int threads = static_cast<int>(OptNumber(opts, "threads", 1));
    const int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
    Napi::Float32Array logits = Floats(env, info[0], n, "logits");
    Napi::Float32Array labels = Floats(env, info[1], n, "labels");
    if (threads < 1) Throw(env, "ERR_INVALID_ARG", "threads must be at least 1");

    Context ctx = NewContext(env, 2 * n + 1);
    ggml_tensor * out = ggml_cross_entropy_loss(ctx.get(), Filled(ctx.get(), shape, logits), Filled(ctx.get(), shape, labels));
    Compute(env, ctx.get(), out, threads, 1);
    return Napi::Number::New(env, static_cast<double>(*static_cast<const float *>(out->data)));
}

Napi::Value OutProduct(const Napi::CallbackInfo & info) { return Run(info, Op::OutProduct); }

Napi::Value TensorTypeList(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const std::vector<ggml_type> types = ModelTensorTypes();
    Napi::Array out = Napi::Array::New(env, types.size());
    for (size_t i = 0; i < types.size(); ++i) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", Napi::String::New(env, ggml_type_name(types[i])));
        o.Set("blockSize", Napi::Number::New(env, static_cast<double>(ggml_blck_size(types[i]))));
        out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
}

Napi::Value RoundTrip(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) Throw(env, "ERR_INVALID_ARG", "values must be a Float32Array");
    Napi::Float32Array v = info[0].As<Napi::Float32Array>();
    const ggml_type type = TypeByName(ArgString(info, 1, "type"));
    if (type == GGML_TYPE_COUNT) Throw(env, "ERR_INVALID_ARG", "type must name a ggml tensor type");
    const int64_t rowLength = info[2].IsNumber() ? info[2].As<Napi::Number>().Int64Value() : 0;
    const int64_t n = static_cast<int64_t>(v.ElementLength());
    if (rowLength < 1 || n % rowLength != 0) Throw(env, "ERR_INVALID_ARG", "rowLength must divide the number of values");
    const std::string unencodable = CannotEncode(type, rowLength);
    if (!unencodable.empty()) Throw(env, "ERR_INVALID_ARG", unencodable);
    const std::vector<uint8_t> bytes = EncodeRows(type, v.Data(), n / rowLength, rowLength);
    Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(n));
    DecodeRows(type, bytes.data(), out.Data(), n);
    return out;
}
Napi::Value MulMat(const Napi::CallbackInfo & info) { return Run(info, Op::MulMat); }

}  // namespace mfner
