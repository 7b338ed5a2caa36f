#include "ModelMaker.h"
#include "TensorTypes.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <random>
#include <vector>

#include "ggml.h"
#include "gguf.h"
#include "llama.h"
#include "PromiseWorker.h"
#include "util.h"

namespace mfner {

namespace {

// general.file_type (llama_ftype) of a file whose matrices are all `t`: llama.cpp names the
// model's type from it; a type without a uniform ftype is "guessed" (as llama.cpp's own tools do)
uint32_t FileType(ggml_type t) {
    switch (t) {
        case GGML_TYPE_F32:     return LLAMA_FTYPE_ALL_F32;
        case GGML_TYPE_F16:     return LLAMA_FTYPE_MOSTLY_F16;
        case GGML_TYPE_BF16:    return LLAMA_FTYPE_MOSTLY_BF16;
        case GGML_TYPE_Q4_0:    return LLAMA_FTYPE_MOSTLY_Q4_0;
        case GGML_TYPE_Q4_1:    return LLAMA_FTYPE_MOSTLY_Q4_1;
        case GGML_TYPE_Q5_0:    return LLAMA_FTYPE_MOSTLY_Q5_0;
        case GGML_TYPE_Q5_1:    return LLAMA_FTYPE_MOSTLY_Q5_1;
        case GGML_TYPE_Q8_0:    return LLAMA_FTYPE_MOSTLY_Q8_0;
        case GGML_TYPE_Q2_K:    return LLAMA_FTYPE_MOSTLY_Q2_K;
        case GGML_TYPE_Q3_K:    return LLAMA_FTYPE_MOSTLY_Q3_K_S;
        case GGML_TYPE_Q4_K:    return LLAMA_FTYPE_MOSTLY_Q4_K_S;
        case GGML_TYPE_Q5_K:    return LLAMA_FTYPE_MOSTLY_Q5_K_S;
        case GGML_TYPE_Q6_K:    return LLAMA_FTYPE_MOSTLY_Q6_K;
        case GGML_TYPE_IQ2_XXS: return LLAMA_FTYPE_MOSTLY_IQ2_XXS;
        case GGML_TYPE_IQ2_XS:  return LLAMA_FTYPE_MOSTLY_IQ2_XS;
        case GGML_TYPE_IQ3_XXS: return LLAMA_FTYPE_MOSTLY_IQ3_XXS;
        case GGML_TYPE_IQ1_S:   return LLAMA_FTYPE_MOSTLY_IQ1_S;
        case GGML_TYPE_IQ4_NL:  return LLAMA_FTYPE_MOSTLY_IQ4_NL;
        case GGML_TYPE_IQ4_XS:  return LLAMA_FTYPE_MOSTLY_IQ4_XS;
        case GGML_TYPE_TQ1_0:   return LLAMA_FTYPE_MOSTLY_TQ1_0;
        case GGML_TYPE_TQ2_0:   return LLAMA_FTYPE_MOSTLY_TQ2_0;
        default:                return LLAMA_FTYPE_GUESSED;
    }
}

struct ModelSpec {
    std::string architecture;  // qwen2 | llama
    std::string name;
    std::string vocabPath;     // a vocab-only GGUF from llama.cpp's models/
    std::string chatTemplate;
    std::string out;
    uint32_t nEmbd = 0, nLayer = 0, nHead = 0, nHeadKv = 0, nFf = 0, nCtx = 0;
    float ropeTheta = 10000.0f, rmsEps = 1e-6f;
    bool qkvBias = false;
    bool tiedEmbeddings = true;
    ggml_type weightType = GGML_TYPE_F16;  // of the matrices; vectors stay F32
    uint64_t seed = 42;
};

// splitmix64 then Box-Muller: fast, seeded, identical on every machine.
class Normal {
public:
    explicit Normal(uint64_t seed) : state_(seed) {}
    float Next(float stddev) {
        if (haveSpare_) { haveSpare_ = false; return spare_ * stddev; }
        double u1 = (static_cast<double>(Bits() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
        double u2 = static_cast<double>(Bits() >> 11) * (1.0 / 9007199254740992.0);
        double r = std::sqrt(-2.0 * std::log(u1));
        spare_ = static_cast<float>(r * std::sin(2 * M_PI * u2));
        haveSpare_ = true;
        return static_cast<float>(r * std::cos(2 * M_PI * u2)) * stddev;
    }

private:
    uint64_t Bits() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint64_t state_;
    bool haveSpare_ = false;
    float spare_ = 0;
};

enum class Init { Normal, Ones, Zeros };

struct TensorPlan {
    ggml_tensor * tensor;
    Init init;
};

struct GgufDeleter { void operator()(gguf_context * c) const { if (c) gguf_free(c); } };
struct GgmlDeleter { void operator()(ggml_context * c) const { if (c) ggml_free(c); } };
struct FileDeleter { void operator()(FILE * f) const { if (f) std::fclose(f); } };

struct MakeResult {
    uint64_t parameters = 0;
    uint64_t bytes = 0;
    size_t tensors = 0;
};

MakeResult WriteModel(const ModelSpec & spec) {
    if (spec.nHead == 0 || spec.nEmbd % spec.nHead != 0) throw CodedError("ERR_INVALID_ARG", "nEmbd must be a multiple of nHead");
    if (spec.nHeadKv == 0 || spec.nHead % spec.nHeadKv != 0) throw CodedError("ERR_INVALID_ARG", "nHead must be a multiple of nHeadKv");

    gguf_init_params vp = {/*no_alloc =*/true, /*ctx =*/nullptr};
    std::unique_ptr<gguf_context, GgufDeleter> vocab(gguf_init_from_file(spec.vocabPath.c_str(), vp));
    if (!vocab) throw CodedError("ERR_MODEL_LOAD", "cannot read the vocabulary GGUF: " + spec.vocabPath);
    int64_t tokensKey = gguf_find_key(vocab.get(), "tokenizer.ggml.tokens");
    if (tokensKey < 0) throw CodedError("ERR_MODEL_LOAD", "the vocabulary GGUF has no tokenizer.ggml.tokens: " + spec.vocabPath);
    const int64_t nVocab = static_cast<int64_t>(gguf_get_arr_n(vocab.get(), tokensKey));

    std::unique_ptr<gguf_context, GgufDeleter> out(gguf_init_empty());
    // Tokenizer keys come from the vocabulary file; everything else is set here.
    for (int64_t i = 0; i < gguf_get_n_kv(vocab.get()); ++i) {
        const char * key = gguf_get_key(vocab.get(), i);
        if (std::strncmp(key, "tokenizer.", 10) != 0) continue;
        gguf_type t = gguf_get_kv_type(vocab.get(), i);
        if (t == GGUF_TYPE_ARRAY) {
            gguf_type at = gguf_get_arr_type(vocab.get(), i);
            size_t n = gguf_get_arr_n(vocab.get(), i);
            if (at == GGUF_TYPE_STRING) {
                std::vector<const char *> strs(n);
                for (size_t j = 0; j < n; ++j) strs[j] = gguf_get_arr_str(vocab.get(), i, j);
                gguf_set_arr_str(out.get(), key, strs.data(), n);
            } else {
                gguf_set_arr_data(out.get(), key, at, gguf_get_arr_data(vocab.get(), i), n);
            }
        } else if (t == GGUF_TYPE_STRING) {
            gguf_set_val_str(out.get(), key, gguf_get_val_str(vocab.get(), i));
        } else if (t == GGUF_TYPE_UINT32) {
            gguf_set_val_u32(out.get(), key, gguf_get_val_u32(vocab.get(), i));
        } else if (t == GGUF_TYPE_INT32) {
            gguf_set_val_i32(out.get(), key, gguf_get_val_i32(vocab.get(), i));
        } else if (t == GGUF_TYPE_BOOL) {
            gguf_set_val_bool(out.get(), key, gguf_get_val_bool(vocab.get(), i));
        } else if (t == GGUF_TYPE_FLOAT32) {
            gguf_set_val_f32(out.get(), key, gguf_get_val_f32(vocab.get(), i));
        }
    }
    const std::string a = spec.architecture;
    auto key = [&](const char * suffix) { return a + "." + suffix; };
    gguf_set_val_str(out.get(), "general.architecture", a.c_str());
    gguf_set_val_str(out.get(), "general.name", spec.name.c_str());
    const uint32_t fileType = FileType(spec.weightType);
    gguf_set_val_u32(out.get(), "general.file_type", fileType);
    gguf_set_val_u32(out.get(), "general.quantization_version", 2);
    gguf_set_val_u32(out.get(), key("context_length").c_str(), spec.nCtx);
    gguf_set_val_u32(out.get(), key("embedding_length").c_str(), spec.nEmbd);
    gguf_set_val_u32(out.get(), key("block_count").c_str(), spec.nLayer);
    gguf_set_val_u32(out.get(), key("feed_forward_length").c_str(), spec.nFf);
    gguf_set_val_u32(out.get(), key("attention.head_count").c_str(), spec.nHead);
    gguf_set_val_u32(out.get(), key("attention.head_count_kv").c_str(), spec.nHeadKv);
    gguf_set_val_u32(out.get(), key("rope.dimension_count").c_str(), spec.nEmbd / spec.nHead);
    gguf_set_val_f32(out.get(), key("rope.freq_base").c_str(), spec.ropeTheta);
    gguf_set_val_f32(out.get(), key("attention.layer_norm_rms_epsilon").c_str(), spec.rmsEps);
    if (!spec.chatTemplate.empty()) gguf_set_val_str(out.get(), "tokenizer.chat_template", spec.chatTemplate.c_str());

    const int64_t E = spec.nEmbd, F = spec.nFf, KV = static_cast<int64_t>(spec.nEmbd / spec.nHead) * spec.nHeadKv;
    const size_t nTensorsMax = 4 + static_cast<size_t>(spec.nLayer) * 12;
    ggml_init_params gp = {ggml_tensor_overhead() * nTensorsMax, nullptr, /*no_alloc =*/true};
    std::unique_ptr<ggml_context, GgmlDeleter> meta(ggml_init(gp));
    std::vector<TensorPlan> plan;
    const ggml_type wtype = spec.weightType;
    auto add = [&](const std::string & name, std::vector<int64_t> ne, Init init) {
        ggml_tensor * t = ne.size() == 1 ? ggml_new_tensor_1d(meta.get(), GGML_TYPE_F32, ne[0])
                                         : ggml_new_tensor_2d(meta.get(), wtype, ne[0], ne[1]);
        ggml_set_name(t, name.c_str());
        gguf_add_tensor(out.get(), t);
        plan.push_back({t, init});
    };
    add("token_embd.weight", {E, nVocab}, Init::Normal);
    add("output_norm.weight", {E}, Init::Ones);
    if (!spec.tiedEmbeddings) add("output.weight", {E, nVocab}, Init::Normal);
    for (uint32_t l = 0; l < spec.nLayer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        add(p + "attn_norm.weight", {E}, Init::Ones);
        add(p + "attn_q.weight", {E, E}, Init::Normal);
        add(p + "attn_k.weight", {E, KV}, Init::Normal);
        add(p + "attn_v.weight", {E, KV}, Init::Normal);
        if (spec.qkvBias) {
            add(p + "attn_q.bias", {E}, Init::Zeros);
            add(p + "attn_k.bias", {KV}, Init::Zeros);
            add(p + "attn_v.bias", {KV}, Init::Zeros);
        }
        add(p + "attn_output.weight", {E, E}, Init::Normal);
        add(p + "ffn_norm.weight", {E}, Init::Ones);
        add(p + "ffn_gate.weight", {E, F}, Init::Normal);
        add(p + "ffn_up.weight", {E, F}, Init::Normal);
        add(p + "ffn_down.weight", {F, E}, Init::Normal);
    }

    // Metadata first, then each tensor's data streamed with the file's alignment padding, so a
    // billion-parameter model never sits in memory at once.
    // A private temporary name: several processes may make the same cached model at once.
    const std::string tmp = spec.out + "." + std::to_string(static_cast<unsigned long long>(std::random_device{}())) + ".partial";
    struct RemoveUnlessKept {
        const std::string & path;
        bool keep = false;
        ~RemoveUnlessKept() { if (!keep) std::remove(path.c_str()); }
    } partial{tmp};
    std::unique_ptr<FILE, FileDeleter> f(std::fopen(tmp.c_str(), "wb"));
    if (!f) throw CodedError("ERR_IO", "cannot write " + tmp);
    if (!gguf_write_to_file_ptr(out.get(), f.get(), /*only_meta =*/true)) throw CodedError("ERR_IO", "cannot write GGUF metadata to " + tmp);
    const size_t align = gguf_get_alignment(out.get());
    Normal rng(spec.seed);
    MakeResult result;
    std::vector<float> f32;
    std::vector<uint8_t> encoded;
    for (const auto & tp : plan) {
        const int64_t n = ggml_nelements(tp.tensor);
        f32.resize(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) f32[i] = tp.init == Init::Normal ? rng.Next(0.02f) : tp.init == Init::Ones ? 1.0f : 0.0f;
        const void * data = f32.data();
        size_t bytes = ggml_nbytes(tp.tensor);
        if (tp.tensor->type != GGML_TYPE_F32) {
            encoded = EncodeRows(tp.tensor->type, f32.data(), tp.tensor->ne[1], tp.tensor->ne[0]);
            data = encoded.data();
        }
        if (std::fwrite(data, 1, bytes, f.get()) != bytes) throw CodedError("ERR_IO", "short write to " + tmp);
        static const char zeros[64] = {0};
        size_t pad = (align - bytes % align) % align;
        if (pad && std::fwrite(zeros, 1, pad, f.get()) != pad) throw CodedError("ERR_IO", "short write to " + tmp);
        result.parameters += static_cast<uint64_t>(n);
        result.bytes += bytes + pad;
        result.tensors++;
    }
    if (std::fclose(f.release()) != 0) throw CodedError("ERR_IO", "cannot close " + tmp);
    if (std::rename(tmp.c_str(), spec.out.c_str()) != 0) throw CodedError("ERR_IO", "cannot rename " + tmp + " to " + spec.out);
    partial.keep = true;
    return result;
}

class MakeModelWorker : public PromiseWorker {
public:
    MakeModelWorker(Napi::Env env, Napi::Object spec, ModelSpec parsed)
        : PromiseWorker(env, spec, "ERR_MAKE_MODEL", "model maker failed"), spec_(std::move(parsed)) {}

protected:
    void Run() override { result_ = WriteModel(spec_); }
    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        o.Set("path", Napi::String::New(env, spec_.out));
        o.Set("parameterCount", Napi::Number::New(env, static_cast<double>(result_.parameters)));
        o.Set("tensorCount", Napi::Number::New(env, static_cast<double>(result_.tensors)));
        o.Set("dataBytes", Napi::Number::New(env, static_cast<double>(result_.bytes)));
        return o;
    }

private:
    ModelSpec spec_;
    MakeResult result_;
};

}  // namespace

Napi::Value MakeModel(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = OptObject(info, 0);
    ModelSpec s;
    s.architecture = OptString(o, "architecture", "");
    if (s.architecture != "qwen2" && s.architecture != "llama") Throw(env, "ERR_INVALID_ARG", "architecture must be qwen2 or llama");
    s.name = OptString(o, "name", "mfner-made-" + s.architecture);
    s.vocabPath = OptString(o, "vocabPath", "");
    s.chatTemplate = OptString(o, "chatTemplate", "");
    s.out = OptString(o, "out", "");
    if (s.vocabPath.empty() || s.out.empty()) Throw(env, "ERR_INVALID_ARG", "vocabPath and out are required");
    auto u32 = [&](const char * k) {
        double v = OptNumber(o, k, 0);
        if (!(v >= 1 && v <= 1e7) || v != std::floor(v)) Throw(env, "ERR_INVALID_ARG", std::string(k) + " must be a positive integer");
        return static_cast<uint32_t>(v);
    };
    s.nEmbd = u32("nEmbd");
    s.nLayer = u32("nLayer");
    s.nHead = u32("nHead");
    s.nHeadKv = u32("nHeadKv");
    s.nFf = u32("nFf");
    s.nCtx = u32("nCtx");
    s.ropeTheta = static_cast<float>(OptNumber(o, "ropeTheta", 10000));
    s.rmsEps = static_cast<float>(OptNumber(o, "rmsEps", 1e-6));
    s.qkvBias = OptBool(o, "qkvBias", false);
    s.tiedEmbeddings = OptBool(o, "tiedEmbeddings", true);
    const std::string weightType = OptString(o, "weightType", "f16");
    s.weightType = TypeByName(weightType);
    if (s.weightType == GGML_TYPE_COUNT) Throw(env, "ERR_INVALID_ARG", "weightType must name a ggml tensor type (f32, f16, bf16, q8_0, q4_0, q4_K, q6_K, ...)");
    // every matrix row is nEmbd or nFf values long
    for (uint32_t len : {s.nEmbd, s.nFf}) {
        const std::string why = CannotEncode(s.weightType, len);
        if (!why.empty()) Throw(env, "ERR_INVALID_ARG", "weightType " + weightType + ": " + why + " (nEmbd and nFf must be multiples of its block)");
    }
    s.seed = static_cast<uint64_t>(OptNumber(o, "seed", 42));
    return (new MakeModelWorker(env, o, std::move(s)))->Start();
}

}  // namespace mfner
