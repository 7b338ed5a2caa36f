#include "Trainer.h"

#if MFNER_HAS_TRAINER

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "ggml-backend.h"
#include "ggml.h"
#include "gguf.h"
#include "Model.h"
#include "PromiseWorker.h"
#include "TensorTypes.h"
#include "util.h"

namespace mfner {

namespace {

struct GgufDeleter { void operator()(gguf_context * c) const { if (c) gguf_free(c); } };
struct GgmlDeleter { void operator()(ggml_context * c) const { if (c) ggml_free(c); } };
using GgufPtr = std::unique_ptr<gguf_context, GgufDeleter>;
using GgmlPtr = std::unique_ptr<ggml_context, GgmlDeleter>;

// Default LoRA targets: every linear layer of a transformer block (PEFT's "all-linear").
const std::vector<std::string> kDefaultTargets = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

// "blk.<n>.<module>.weight" -> module, or "" for anything else.
std::string BlockModule(const std::string & name) {
    if (name.rfind("blk.", 0) != 0) return "";
    size_t dot = name.find('.', 4);
    if (dot == std::string::npos) return "";
    const std::string suffix = ".weight";
    if (name.size() <= dot + 1 + suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return "";
    return name.substr(dot + 1, name.size() - suffix.size() - dot - 1);
}

// A tensor's values as F32, whatever its type (a frozen F16, BF16 or quantized base included).
std::vector<float> ReadF32(ggml_tensor * t) {
    std::vector<float> out(static_cast<size_t>(ggml_nelements(t)));
    if (t->type == GGML_TYPE_F32) {
        ggml_backend_tensor_get(t, out.data(), 0, out.size() * sizeof(float));
        return out;
    }
    std::vector<uint8_t> raw(ggml_nbytes(t));
    ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
    DecodeRows(t->type, raw.data(), out.data(), ggml_nelements(t));
    return out;
}

// LoRA's backward pass through a frozen weight W is out_prod(W, dy^T) with W in its own type and
// buffer. Where no device can run that op, ggml's scheduler would abort the process in the first
// step; this asks the same question the scheduler asks, for every matrix the gradient crosses,
// and refuses such a model with the tensor's name and type.
void RequireBackwardKernels(const llama_model * m) {
    const bool untiedHead = llama_model_weight_by_name(const_cast<llama_model *>(m), "output.weight") != nullptr;
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    const int32_t nw = llama_model_n_weights(m);
    for (int32_t i = 0; i < nw; ++i) {
        ggml_tensor * w = llama_model_weight(m, i);
        const std::string name = ggml_get_name(w);
        // an untied embedding is only gathered (get_rows), never multiplied; expert stacks (3-D,
        // multiplied by MUL_MAT_ID) are not what this out_prod models
        if (ggml_n_dims(w) != 2 || (untiedHead && name == "token_embd.weight")) continue;
        ggml_init_params ip = {4 * ggml_tensor_overhead(), nullptr, /*no_alloc =*/true};
        GgmlPtr ctx(ggml_init(ip));
        ggml_tensor * dy = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, w->ne[1], 1);
        ggml_tensor * op = ggml_out_prod(ctx.get(), w, ggml_transpose(ctx.get(), dy));
        ggml_backend_buffer_type_t buft = w->buffer ? ggml_backend_buffer_get_type(w->buffer) : nullptr;
        ggml_backend_dev_t dev = buft ? ggml_backend_buft_get_device(buft) : cpu;
        bool ok = dev && ggml_backend_dev_supports_op(dev, op);
        if (!ok && cpu && dev != cpu && buft && ggml_backend_dev_supports_buft(cpu, buft)) ok = ggml_backend_dev_supports_op(cpu, op);
        if (ok) continue;
        const std::string where = buft ? ggml_backend_buft_name(buft) : "no buffer";
        std::string msg = "cannot train over tensor " + name + ": type " + ggml_type_name(w->type) + " in buffer " + where + " has no backward (out_prod) kernel";
        if (where.find("REPACK") != std::string::npos) msg += "; load the model with repack: false (Model.load for training does)";
        throw CodedError("ERR_UNSUPPORTED", msg);
    }
}

std::string TempPath(const char * tag) {
    const char * dir = std::getenv("TMPDIR");
    std::string base = dir && *dir ? dir : "/tmp";
    static std::atomic<uint64_t> counter{0};
    return base + "/mfner-" + tag + "-" + std::to_string(static_cast<long long>(getpid())) + "-" + std::to_string(counter++) + ".gguf";
}

std::string ModelArch(const llama_model * m) {
    char buf[128];
    int32_t n = llama_model_meta_val_str(m, "general.architecture", buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(std::min<int32_t>(n, sizeof(buf) - 1))) : std::string();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// One training (or evaluation) step on a worker thread.

struct StepRequest {
    std::vector<llama_token> tokens;
    std::vector<llama_pos> positions;
    std::vector<llama_seq_id> sequences;
    // optional shared rows: row i belongs to sequenceIds[sequenceOffsets[i] .. sequenceOffsets[i + 1])
    std::vector<int32_t> sequenceOffsets;
    std::vector<int32_t> sequenceIds;
    int32_t maxSequencesPerRow = 1;
    std::vector<int32_t> labels;
    std::vector<float> weights;  // empty: 1 for each labelled row
    bool backward = true;
    bool apply = true;
    bool resetGrads = true;
    bool rowNll = false;
    float lr = 0;
};

class TrainStepWorker : public PromiseWorker {
public:
    TrainStepWorker(TrainerWrap * owner, StepRequest req)
        : PromiseWorker(owner->Env(), owner->Value(), "ERR_TRAIN", "training step failed"), owner_(owner), req_(std::move(req)) {}

protected:
    void Settled() override { owner_->Settle(); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object out = Napi::Object::New(env);
        out.Set("loss", Napi::Number::New(env, loss_));
        out.Set("ms", Napi::Number::New(env, ms_));
        out.Set("optimizerSteps", Napi::Number::New(env, static_cast<double>(owner_->optimizerSteps_)));
        if (req_.rowNll) {
            auto arr = Napi::Float32Array::New(env, nll_.size());
            std::memcpy(arr.Data(), nll_.data(), nll_.size() * sizeof(float));
            out.Set("rowNll", arr);
        }
        return out;
    }

private:
    void ApplyWeightDecay() {
        const float keep = 1.0f - owner_->opt_.lr * owner_->opt_.weightDecay;
        for (size_t i = 0; i < owner_->params_.size(); ++i) {
            if (!owner_->decay_[i]) continue;
            ggml_tensor * t = owner_->params_[i];
            const size_t n = static_cast<size_t>(ggml_nelements(t));
            if (t->buffer && ggml_backend_buffer_is_host(t->buffer)) {
                float * d = static_cast<float *>(t->data);
                for (size_t j = 0; j < n; ++j) d[j] *= keep;
            } else {
                std::vector<float> d(n);
                ggml_backend_tensor_get(t, d.data(), 0, n * sizeof(float));
                for (auto & v : d) v *= keep;
                ggml_backend_tensor_set(t, d.data(), 0, n * sizeof(float));
            }
        }
    }

    void Run() override {
        auto t0 = std::chrono::steady_clock::now();
        const int32_t n = static_cast<int32_t>(req_.tokens.size());
        llama_batch batch = llama_batch_init(n, 0, req_.maxSequencesPerRow);
        std::unique_ptr<llama_batch, void (*)(llama_batch *)> guard(&batch, [](llama_batch * b) { llama_batch_free(*b); });
        const bool shared = !req_.sequenceOffsets.empty();
        for (int32_t i = 0; i < n; ++i) {
            batch.token[i] = req_.tokens[i];
            batch.pos[i] = req_.positions[i];
            if (shared) {
                // a row several packed sequences begin with (patch 0011: attention by sequence sets)
                const int32_t from = req_.sequenceOffsets[i], to = req_.sequenceOffsets[i + 1];
                batch.n_seq_id[i] = to - from;
                for (int32_t k = from; k < to; ++k) batch.seq_id[i][k - from] = req_.sequenceIds[k];
            } else {
                batch.n_seq_id[i] = 1;
                batch.seq_id[i][0] = req_.sequences[i];
            }
            // score the rows that carry a label; with none, row 0 keeps the graph non-empty
            batch.logits[i] = req_.labels[i] >= 0 ? 1 : 0;
        }
        batch.n_tokens = n;
        bool anyOutput = std::any_of(req_.labels.begin(), req_.labels.end(), [](int32_t l) { return l >= 0; });
        if (!anyOutput) batch.logits[0] = 1;

        if (req_.lr > 0) owner_->opt_.lr = req_.lr;
        if (req_.apply && owner_->opt_.weightDecay > 0) ApplyWeightDecay();

        llama_opt_step_params p{};
        p.labels = req_.labels.data();
        p.label_weights = req_.weights.empty() ? nullptr : req_.weights.data();
        p.backward = req_.backward;
        p.apply = req_.apply;
        p.reset_grads = req_.resetGrads;
        if (req_.rowNll) {
            nll_.assign(static_cast<size_t>(n), NAN);
            p.row_nll = nll_.data();
        }
        int32_t rc = llama_opt_step(owner_->ctx_, batch, &p, &loss_);
        if (rc != 0) throw CodedError("ERR_TRAIN_STEP", "llama_opt_step rejected the batch (code " + std::to_string(rc) + ")");
        if (req_.apply) ++owner_->optimizerSteps_;
        ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }

    TrainerWrap * owner_;
    StepRequest req_;
    float loss_ = 0;
    double ms_ = 0;
    std::vector<float> nll_;
};

// ---------------------------------------------------------------------------------------------

Napi::Object TrainerWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass(env, "Trainer", {
        InstanceMethod<&TrainerWrap::Step>("step"),
        InstanceMethod<&TrainerWrap::Info>("info"),
        InstanceMethod<&TrainerWrap::ParamNames>("paramNames"),
        InstanceMethod<&TrainerWrap::Gradient>("gradient"),
        InstanceMethod<&TrainerWrap::GetTensor>("getTensor"),
        InstanceMethod<&TrainerWrap::SetTensor>("setTensor"),
        InstanceMethod<&TrainerWrap::SaveAdapter>("saveAdapter"),
        InstanceMethod<&TrainerWrap::SaveModel>("saveModel"),
        InstanceMethod<&TrainerWrap::SaveOptimizer>("saveOptimizer"),
        InstanceMethod<&TrainerWrap::LoadOptimizer>("loadOptimizer"),
        InstanceMethod<&TrainerWrap::LoadWeights>("loadWeights"),
        InstanceMethod<&TrainerWrap::Dispose>("dispose"),
    });
    exports.Set("Trainer", func);
    return exports;
}

ggml_opt_optimizer_params TrainerWrap::OptimizerParams(void * self) {
    auto * t = static_cast<TrainerWrap *>(self);
    ggml_opt_optimizer_params p = ggml_opt_get_default_optimizer_params(nullptr);
    p.adamw.alpha = t->opt_.lr;
    p.adamw.beta1 = t->opt_.beta1;
    p.adamw.beta2 = t->opt_.beta2;
    p.adamw.eps = t->opt_.eps;
    p.adamw.wd = 0.0f;  // decoupled decay is applied per tensor by the step worker
    return p;
}

// new Trainer(model, { method, modelPath, contextSize, threads, lr, beta1, beta2, eps, weightDecay,
//                      rank, alpha, targets, seed, bInitStd, adapterPath, trainEmbeddings })
TrainerWrap::TrainerWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<TrainerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ModelWrap::constructor.Value())) {
        Throw(env, "ERR_INVALID_ARG", "Trainer needs a Model as its first argument");
    }
    model_ = ModelWrap::Unwrap(info[0].As<Napi::Object>());
    lmodel_ = model_->Require(env);
    Napi::Object opts = OptObject(info, 1);
    method_ = OptString(opts, "method", "lora");
    if (method_ != "lora" && method_ != "full") Throw(env, "ERR_INVALID_ARG", "method must be \"lora\" or \"full\"");
    modelPath_ = OptString(opts, "modelPath", "");
    double cs = OptNumber(opts, "contextSize", 512);
    if (!(cs >= 8 && cs <= (1 << 20)) || cs != std::floor(cs)) Throw(env, "ERR_INVALID_ARG", "contextSize must be an integer in 8..2^20");
    contextSize_ = static_cast<uint32_t>(cs);
    int32_t threads = static_cast<int32_t>(OptNumber(opts, "threads", 2));
    if (threads < 1) Throw(env, "ERR_INVALID_ARG", "threads must be >= 1");
    opt_.lr = static_cast<float>(OptNumber(opts, "lr", 1e-5));
    opt_.beta1 = static_cast<float>(OptNumber(opts, "beta1", 0.9));
    opt_.beta2 = static_cast<float>(OptNumber(opts, "beta2", 0.999));
    opt_.eps = static_cast<float>(OptNumber(opts, "eps", 1e-8));
    opt_.weightDecay = static_cast<float>(OptNumber(opts, "weightDecay", 0));
    if (!(opt_.lr > 0) || opt_.weightDecay < 0 || opt_.weightDecay * opt_.lr > 1) Throw(env, "ERR_INVALID_ARG", "lr must be > 0 and weightDecay >= 0");

    forwardOnly_ = OptBool(opts, "forwardOnly", false);
    // Every option is read and checked here, before the llama context exists: a wrongly typed
    // option throws a JS error, which the context's cleanup below would not see.
    const std::string adapterPath = OptString(opts, "adapterPath", "");
    const double rank = OptNumber(opts, "rank", 16);
    const float alpha = static_cast<float>(OptNumber(opts, "alpha", 32));
    if (method_ == "lora" && adapterPath.empty() && !(rank >= 1 && rank <= 4096)) Throw(env, "ERR_INVALID_ARG", "rank must be in 1..4096");
    if (method_ == "lora") {
        loraRank_ = static_cast<int32_t>(rank);
        loraAlpha_ = alpha;
    }
    std::vector<std::string> targets = kDefaultTargets;
    Napi::Value tv = opts.Get("targets");
    if (tv.IsArray()) {
        targets.clear();
        Napi::Array ta = tv.As<Napi::Array>();
        for (uint32_t i = 0; i < ta.Length(); ++i) {
            Napi::Value v = ta.Get(i);
            if (!v.IsString()) Throw(env, "ERR_INVALID_ARG", "targets must be strings");
            targets.push_back(v.As<Napi::String>().Utf8Value());
        }
    } else if (!tv.IsUndefined() && !tv.IsNull()) {
        Throw(env, "ERR_INVALID_ARG", "targets must be an array of module names");
    }
    const uint64_t seed = static_cast<uint64_t>(OptNumber(opts, "seed", 0));
    const float bStd = static_cast<float>(OptNumber(opts, "bInitStd", 0));
    const bool trainEmbeddings = OptBool(opts, "trainEmbeddings", true);
    // (full fine-tuning trains F32 weights only, which every backend multiplies both ways; its own
    // checks below come first and name the real obstacle)
    if (method_ == "lora" && !forwardOnly_) {
        try {
            RequireBackwardKernels(lmodel_);
        } catch (const CodedError & e) {
            Throw(env, e.code(), e.what());
        }
    }

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = contextSize_;
    cp.n_batch = contextSize_;
    cp.n_ubatch = contextSize_;
    cp.n_seq_max = 1;
    cp.kv_unified = true;  // packed sequences may use any id below LLAMA_MAX_SEQ
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = true;
    ctx_ = llama_init_from_model(lmodel_, cp);
    if (!ctx_) Throw(env, "ERR_CONTEXT_CREATE", "llama.cpp could not create the training context");
    modelRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    model_->AddContext();

    try {
        const int32_t nw = llama_model_n_weights(lmodel_);
        if (method_ == "lora") {
            if (adapterPath.empty()) {
                // PEFT init: A ~ U(-1/sqrt(n_in), 1/sqrt(n_in)) (kaiming_uniform, a = sqrt(5)), B = 0,
                // so a new adapter changes nothing. Written to a GGUF and read back with llama.cpp's
                // own adapter loader, so the tensors land on the base weights' devices.
                GgufPtr g(gguf_init_empty());
                const std::string arch = ModelArch(lmodel_);
                gguf_set_val_str(g.get(), "general.type", "adapter");
                gguf_set_val_str(g.get(), "general.architecture", arch.c_str());
                gguf_set_val_str(g.get(), "adapter.type", "lora");
                gguf_set_val_f32(g.get(), "adapter.lora.alpha", loraAlpha_);
                std::mt19937_64 rng(seed);
                std::vector<std::string> bases;
                for (int32_t i = 0; i < nw; ++i) {
                    ggml_tensor * w = llama_model_weight(lmodel_, i);
                    std::string name = ggml_get_name(w);
                    std::string mod = BlockModule(name);
                    if (mod.empty() || std::find(targets.begin(), targets.end(), mod) == targets.end()) continue;
                    if (ggml_n_dims(w) != 2 || std::find(bases.begin(), bases.end(), name) != bases.end()) continue;
                    bases.push_back(name);
                }
                if (bases.empty()) throw CodedError("ERR_INVALID_ARG", "no weight of the model matches the LoRA targets");
                size_t bytes = 0;
                for (auto & b : bases) {
                    ggml_tensor * w = llama_model_weight_by_name(lmodel_, b.c_str());
                    bytes += static_cast<size_t>(w->ne[0] + w->ne[1]) * loraRank_ * sizeof(float) + 2 * ggml_tensor_overhead();
                }
                ggml_init_params ip = {bytes + 1024, nullptr, false};
                GgmlPtr tctx(ggml_init(ip));
                for (auto & b : bases) {
                    ggml_tensor * w = llama_model_weight_by_name(lmodel_, b.c_str());
                    const int64_t nIn = w->ne[0], nOut = w->ne[1];
                    ggml_tensor * a = ggml_new_tensor_2d(tctx.get(), GGML_TYPE_F32, nIn, loraRank_);
                    ggml_tensor * bt = ggml_new_tensor_2d(tctx.get(), GGML_TYPE_F32, loraRank_, nOut);
                    ggml_set_name(a, (b + ".lora_a").c_str());
                    ggml_set_name(bt, (b + ".lora_b").c_str());
                    const float bound = 1.0f / std::sqrt(static_cast<float>(nIn));
                    std::uniform_real_distribution<float> ua(-bound, bound);
                    float * ad = static_cast<float *>(a->data);
                    for (int64_t j = 0; j < ggml_nelements(a); ++j) ad[j] = ua(rng);
                    std::normal_distribution<float> nb(0.0f, bStd > 0 ? bStd : 1.0f);
                    float * bd = static_cast<float *>(bt->data);
                    for (int64_t j = 0; j < ggml_nelements(bt); ++j) bd[j] = bStd > 0 ? nb(rng) : 0.0f;
                    gguf_add_tensor(g.get(), a);
                    gguf_add_tensor(g.get(), bt);
                }
                std::string tmp = TempPath("lora-init");
                if (!gguf_write_to_file(g.get(), tmp.c_str(), false)) throw CodedError("ERR_WRITE", "could not write the initial adapter to the temporary directory");
                adapter_ = llama_adapter_lora_init(lmodel_, tmp.c_str());
                std::remove(tmp.c_str());
            } else {
                adapter_ = llama_adapter_lora_init(lmodel_, adapterPath.c_str());
                if (!adapter_) throw CodedError("ERR_ADAPTER_LOAD", "llama.cpp could not load the LoRA adapter: " + adapterPath);
                char buf[64];
                if (llama_adapter_meta_val_str(adapter_, "adapter.lora.alpha", buf, sizeof(buf)) > 0) loraAlpha_ = std::strtof(buf, nullptr);
            }
            if (!adapter_) throw CodedError("ERR_ADAPTER_LOAD", "llama.cpp rejected the new LoRA adapter");
            // collect the pairs in model order
            for (int32_t i = 0; i < nw; ++i) {
                std::string name = ggml_get_name(llama_model_weight(lmodel_, i));
                ggml_tensor *a = nullptr, *b = nullptr;
                if (llama_adapter_lora_get_ab(adapter_, name.c_str(), &a, &b) != 0) continue;
                if (std::find(params_.begin(), params_.end(), a) != params_.end()) continue;
                if (a->type != GGML_TYPE_F32 || b->type != GGML_TYPE_F32) throw CodedError("ERR_UNSUPPORTED", "only F32 LoRA adapters can be trained");
                loraRank_ = static_cast<int32_t>(b->ne[0]);
                params_.push_back(a);
                paramNames_.push_back(name + ".lora_a");
                params_.push_back(b);
                paramNames_.push_back(name + ".lora_b");
            }
            if (params_.empty()) throw CodedError("ERR_ADAPTER_LOAD", "the adapter has no tensors for this model");
            float scale = 1.0f;
            if (llama_set_adapters_lora(ctx_, &adapter_, 1, &scale) != 0) throw CodedError("ERR_ADAPTER_LOAD", "could not activate the adapter");
            for (auto * t : params_) decay_.push_back(ggml_n_dims(t) >= 2);
        } else {
            // rope_freqs is a constant, not a weight; llama.cpp may hold a copy per device (it is
            // TENSOR_DUPLICATED per layer), which is harmless as nothing trains it.
            const auto constant = [](const std::string & name) { return name == "rope_freqs.weight"; };
            // A tied head offloaded apart from the embedding is a second tensor of the same name;
            // trained as two parameters, each would get part of the gradient and they would drift.
            // (After this pass no trained weight is listed twice, so the loop below needs no dedupe.)
            std::set<std::string> seen;
            for (int32_t i = 0; i < nw; ++i) {
                const std::string name = ggml_get_name(llama_model_weight(lmodel_, i));
                if (!constant(name) && !seen.insert(name).second) {
                    throw CodedError("ERR_UNSUPPORTED", "the model holds two copies of " + name + " (a tied output head on another device than the embedding); load it with shareTiedOutput: true for full fine-tuning");
                }
            }
            for (int32_t i = 0; i < nw; ++i) {
                ggml_tensor * w = llama_model_weight(lmodel_, i);
                std::string name = ggml_get_name(w);
                if (w->type != GGML_TYPE_F32) {
                    throw CodedError("ERR_UNSUPPORTED", "full fine-tuning trains F32 weights; tensor " + name + " is " + ggml_type_name(w->type) +
                        " (F16/BF16 models are upcast when loaded with FULL_FINE_TUNING_LOAD; a quantized model trains with LoRA, or fully after mfner quantize --type f32)");
                }
                if (constant(name)) continue;
                if (!trainEmbeddings && name == "token_embd.weight") continue;
                params_.push_back(w);
                paramNames_.push_back(name);
                // HF's default: no decay on biases and norm weights (the 1-D tensors); embeddings decay
                decay_.push_back(ggml_n_dims(w) >= 2);
            }
        }
        llama_opt_step_init_params ip{};
        ip.params = params_.data();
        ip.n_params = static_cast<int32_t>(params_.size());
        ip.get_opt_pars = &TrainerWrap::OptimizerParams;
        ip.get_opt_pars_ud = this;
        ip.optimizer_type = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
        if (llama_opt_step_init(ctx_, &ip) != 0) throw CodedError("ERR_TRAIN_INIT", "llama.cpp could not set up training");
    } catch (const CodedError & e) {
        FreeNow();
        Throw(env, e.code(), e.what());
    } catch (...) {
        FreeNow();  // the context is not leaked, and the model's count of live contexts falls back
        throw;
    }
}

TrainerWrap::~TrainerWrap() { FreeNow(); }

void TrainerWrap::FreeNow() {
    if (ctx_) {
        llama_free(ctx_);
        ctx_ = nullptr;
        if (adapter_) {
            llama_adapter_lora_free(adapter_);
            adapter_ = nullptr;
        }
        model_->RemoveContext();
    }
}

void TrainerWrap::RequireIdle(Napi::Env env) const {
    if (!ctx_ || disposing_) Throw(env, "ERR_DISPOSED", "trainer is disposed");
    if (busy_) Throw(env, "ERR_BUSY", "a training step is running");
}

ggml_tensor * TrainerWrap::Param(Napi::Env env, const std::string & name) const {
    for (size_t i = 0; i < params_.size(); ++i) if (paramNames_[i] == name) return params_[i];
    Throw(env, "ERR_INVALID_ARG", "not a trainable tensor of this trainer: " + name);
}

namespace {

template <typename T, napi_typedarray_type Kind>
std::vector<T> ReadTyped(Napi::Env env, Napi::Object obj, const char * key, size_t n, bool optional) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) {
        if (optional) return {};
        Throw(env, "ERR_INVALID_ARG", std::string(key) + " is required");
    }
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Kind) Throw(env, "ERR_INVALID_ARG", std::string(key) + " has the wrong array type");
    auto arr = v.As<Napi::TypedArrayOf<T>>();
    if (n != SIZE_MAX && arr.ElementLength() != n) Throw(env, "ERR_INVALID_ARG", std::string(key) + " must have one entry per token");
    return std::vector<T>(arr.Data(), arr.Data() + arr.ElementLength());
}

}  // namespace

// step({ tokens, positions, sequences, sequenceOffsets?, sequenceIds?, labels, weights?, backward, apply, resetGrads, rowNll, lr }) -> Promise
Napi::Value TrainerWrap::Step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    Napi::Object o = OptObject(info, 0);
    StepRequest req;
    req.tokens = ReadTyped<int32_t, napi_int32_array>(env, o, "tokens", SIZE_MAX, false);
    const size_t n = req.tokens.size();
    if (n == 0 || n > contextSize_) Throw(env, "ERR_INVALID_ARG", "a step takes 1.." + std::to_string(contextSize_) + " tokens");
    req.positions = ReadTyped<int32_t, napi_int32_array>(env, o, "positions", n, false);
    req.sequences = ReadTyped<int32_t, napi_int32_array>(env, o, "sequences", n, false);
    req.labels = ReadTyped<int32_t, napi_int32_array>(env, o, "labels", n, false);
    req.sequenceOffsets = ReadTyped<int32_t, napi_int32_array>(env, o, "sequenceOffsets", n + 1, true);
    if (!req.sequenceOffsets.empty()) {
        req.sequenceIds = ReadTyped<int32_t, napi_int32_array>(env, o, "sequenceIds", SIZE_MAX, false);
        const auto & off = req.sequenceOffsets;
        if (off[0] != 0 || static_cast<size_t>(off[n]) != req.sequenceIds.size()) Throw(env, "ERR_INVALID_ARG", "sequenceOffsets must run from 0 to the length of sequenceIds");
        for (size_t i = 0; i < n; ++i) {
            const int32_t count = off[i + 1] - off[i];
            if (count < 1 || count > 256) Throw(env, "ERR_INVALID_ARG", "each row belongs to 1..256 sequences (row " + std::to_string(i) + ")");
            for (int32_t k = off[i]; k < off[i + 1]; ++k) {
                const int32_t s = req.sequenceIds[k];
                if (s < 0 || s >= 256 || (k > off[i] && s <= req.sequenceIds[k - 1])) Throw(env, "ERR_INVALID_ARG", "a row's sequence ids must be distinct, ascending, in 0..255 (row " + std::to_string(i) + ")");
            }
            req.maxSequencesPerRow = std::max(req.maxSequencesPerRow, count);
        }
    }
    req.weights = ReadTyped<float, napi_float32_array>(env, o, "weights", n, true);
    const int32_t nVocab = llama_vocab_n_tokens(model_->Vocab());
    for (size_t i = 0; i < n; ++i) {
        if (req.tokens[i] < 0 || req.tokens[i] >= nVocab || req.labels[i] >= nVocab) Throw(env, "ERR_INVALID_TOKEN", "token or label outside the vocabulary at row " + std::to_string(i));
        if (req.sequences[i] < 0 || req.sequences[i] >= 256) Throw(env, "ERR_INVALID_ARG", "sequence ids must be in 0..255");
        if (req.positions[i] < 0) Throw(env, "ERR_INVALID_ARG", "positions must be >= 0");
        if (!req.weights.empty() && !(req.weights[i] >= 0 && std::isfinite(req.weights[i]))) Throw(env, "ERR_INVALID_ARG", "weights must be finite and >= 0");
    }
    req.backward = OptBool(o, "backward", true);
    req.apply = OptBool(o, "apply", req.backward);
    req.resetGrads = OptBool(o, "resetGrads", true);
    req.rowNll = OptBool(o, "rowNll", false);
    req.lr = static_cast<float>(OptNumber(o, "lr", 0));
    if (req.apply && !req.backward) Throw(env, "ERR_INVALID_ARG", "apply needs backward");
    if (forwardOnly_ && req.backward) Throw(env, "ERR_INVALID_STATE", "this trainer was made with forwardOnly: it computes losses, not gradients");
    busy_ = true;
    return (new TrainStepWorker(this, std::move(req)))->Start();
}

Napi::Value TrainerWrap::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("method", Napi::String::New(env, method_));
    out.Set("contextSize", Napi::Number::New(env, contextSize_));
    double nParams = 0;
    for (auto * t : params_) nParams += static_cast<double>(ggml_nelements(t));
    out.Set("trainableParameters", Napi::Number::New(env, nParams));
    out.Set("trainableTensors", Napi::Number::New(env, static_cast<double>(params_.size())));
    out.Set("rank", Napi::Number::New(env, loraRank_));
    out.Set("alpha", Napi::Number::New(env, loraAlpha_));
    out.Set("optimizerSteps", Napi::Number::New(env, static_cast<double>(optimizerSteps_)));
    out.Set("disposed", Napi::Boolean::New(env, ctx_ == nullptr || disposing_));
    return out;
}

Napi::Value TrainerWrap::ParamNames(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, paramNames_.size());
    for (size_t i = 0; i < paramNames_.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, paramNames_[i]));
    return out;
}

// The gradient accumulated for a trainable tensor since the last reset (null before the first step).
Napi::Value TrainerWrap::Gradient(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    ggml_tensor * p = Param(env, ArgString(info, 0, "tensor name"));
    ggml_tensor * g = ggml_opt_param_grad(llama_opt_get_context(ctx_), p);
    if (!g) return env.Null();
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(ggml_nelements(g)));
    ggml_backend_tensor_get(g, out.Data(), 0, ggml_nbytes(g));
    return out;
}

Napi::Value TrainerWrap::GetTensor(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    ggml_tensor * p = Param(env, ArgString(info, 0, "tensor name"));
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(ggml_nelements(p)));
    ggml_backend_tensor_get(p, out.Data(), 0, ggml_nbytes(p));
    return out;
}

Napi::Value TrainerWrap::SetTensor(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    ggml_tensor * p = Param(env, ArgString(info, 0, "tensor name"));
    if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        Throw(env, "ERR_INVALID_ARG", "values must be a Float32Array");
    }
    auto arr = info[1].As<Napi::Float32Array>();
    if (arr.ElementLength() != static_cast<size_t>(ggml_nelements(p))) Throw(env, "ERR_INVALID_ARG", "values have the wrong length");
    ggml_backend_tensor_set(p, arr.Data(), 0, ggml_nbytes(p));
    return env.Undefined();
}

// ---------------------------------------------------------------------------------------------
// Saving and loading run on a worker thread (a full model's weights and AdamW moments are
// gigabytes): the trainer is busy meanwhile, so no step can change the tensors being written.

class TrainerTaskWorker : public PromiseWorker {
public:
    TrainerTaskWorker(TrainerWrap * owner, std::function<void()> task)
        : PromiseWorker(owner->Env(), owner->Value(), "ERR_WRITE", ""), owner_(owner), task_(std::move(task)) {}

protected:
    void Run() override { task_(); }
    void Settled() override { owner_->Settle(); }
    Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

private:
    TrainerWrap * owner_;
    std::function<void()> task_;
};

Napi::Value TrainerWrap::RunTask(Napi::Env env, std::function<void()> task) {
    busy_ = true;
    return (new TrainerTaskWorker(this, std::move(task)))->Start();
}

// saveAdapter(path) -> Promise: a GGUF LoRA adapter that llama.cpp's standard loader reads.
Napi::Value TrainerWrap::SaveAdapter(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    if (method_ != "lora") Throw(env, "ERR_INVALID_STATE", "saveAdapter is for LoRA trainers");
    std::string path = ArgString(info, 0, "path");
    return RunTask(env, [this, path]() { WriteAdapter(path); });
}

void TrainerWrap::WriteAdapter(const std::string & path) const {
    GgufPtr g(gguf_init_empty());
    const std::string arch = ModelArch(lmodel_);
    gguf_set_val_str(g.get(), "general.type", "adapter");
    gguf_set_val_str(g.get(), "general.architecture", arch.c_str());
    gguf_set_val_str(g.get(), "adapter.type", "lora");
    gguf_set_val_f32(g.get(), "adapter.lora.alpha", loraAlpha_);
    // the tensors keep the loader's names (<base>.lora_a / .lora_b); the writer reads device buffers
    for (auto * t : params_) gguf_add_tensor(g.get(), t);
    if (!gguf_write_to_file(g.get(), path.c_str(), false)) throw CodedError("ERR_WRITE", "could not write the adapter to " + path);
}

// saveModel(path) -> Promise: a complete GGUF with every metadata key of the source file (chat
// template, tokenizer, context length) and the current weights; a LoRA trainer merges
// W + alpha/r * B A.
Napi::Value TrainerWrap::SaveModel(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    std::string path = ArgString(info, 0, "path");
    if (modelPath_.empty()) Throw(env, "ERR_INVALID_STATE", "the trainer was created without modelPath, so the source metadata is unknown");
    return RunTask(env, [this, path]() { WriteModel(path); });
}

void TrainerWrap::WriteModel(const std::string & path) const {
    gguf_init_params gp = {true, nullptr};
    GgufPtr src(gguf_init_from_file(modelPath_.c_str(), gp));
    if (!src) throw CodedError("ERR_MODEL_LOAD", "could not read the source model's metadata: " + modelPath_);
    GgufPtr dst(gguf_init_empty());
    gguf_set_kv(dst.get(), src.get());
    // full fine-tuning writes its F32 master weights, whatever the file held (F16/BF16 are upcast
    // at load): the file type says so, as llama.cpp's own writers do
    if (method_ == "full") gguf_set_val_u32(dst.get(), "general.file_type", LLAMA_FTYPE_ALL_F32);
    std::vector<std::vector<uint8_t>> merged;  // keeps merged host data alive until written
    bool retyped = false;
    const int64_t nt = gguf_get_n_tensors(src.get());
    merged.reserve(static_cast<size_t>(nt));
    ggml_init_params ip = {static_cast<size_t>(nt + 1) * ggml_tensor_overhead(), nullptr, true};
    GgmlPtr meta(ggml_init(ip));
    for (int64_t i = 0; i < nt; ++i) {
        const char * name = gguf_get_tensor_name(src.get(), i);
        ggml_tensor * w = llama_model_weight_by_name(lmodel_, name);
        if (!w) throw CodedError("ERR_INVALID_STATE", std::string("the loaded model has no tensor ") + name);
        ggml_tensor *a = nullptr, *b = nullptr;
        if (method_ == "lora" && adapter_ && llama_adapter_lora_get_ab(adapter_, name, &a, &b) == 0) {
            std::vector<float> W = ReadF32(w), A = ReadF32(a), B = ReadF32(b);
            const int64_t nIn = w->ne[0], nOut = w->ne[1], r = b->ne[0];
            const float s = loraAlpha_ != 0 ? loraAlpha_ / static_cast<float>(r) : 1.0f;
            for (int64_t o = 0; o < nOut; ++o) {
                for (int64_t k = 0; k < r; ++k) {
                    const float bk = s * B[static_cast<size_t>(o * r + k)];
                    if (bk == 0.0f) continue;
                    const float * arow = &A[static_cast<size_t>(k * nIn)];
                    float * wrow = &W[static_cast<size_t>(o * nIn)];
                    for (int64_t j = 0; j < nIn; ++j) wrow[j] += bk * arow[j];
                }
            }
            // F32, F16 and BF16 bases keep their type; a quantized base's merged matrices are F16:
            // re-quantizing would round away much of a small low-rank update (mfner quantize
            // makes a smaller file from the merged model, as a decision the user takes)
            const ggml_type outType = w->type == GGML_TYPE_F32 || w->type == GGML_TYPE_BF16 ? w->type : GGML_TYPE_F16;
            merged.push_back(EncodeRows(outType, W.data(), nOut, nIn));
            retyped = retyped || outType != w->type;
            ggml_tensor * t = ggml_new_tensor_2d(meta.get(), outType, nIn, nOut);
            ggml_set_name(t, name);
            t->data = merged.back().data();
            gguf_add_tensor(dst.get(), t);
        } else {
            gguf_add_tensor(dst.get(), w);
        }
    }
    // a quantized base's merge mixes F16 matrices with quantized ones: no single file type says
    // that, so llama.cpp names it from the tensors (as for a file without the key)
    if (retyped) gguf_remove_key(dst.get(), "general.file_type");
    if (!gguf_write_to_file(dst.get(), path.c_str(), false)) throw CodedError("ERR_WRITE", "could not write the model to " + path);
}

// loadWeights(path) -> Promise: sets every trainable tensor from the tensor of the same name in a
// GGUF (an adapter this trainer saved, or a full model): how a checkpoint resumes. Every
// trainable tensor must be present with the same number of F32 elements.
Napi::Value TrainerWrap::LoadWeights(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    std::string path = ArgString(info, 0, "path");
    return RunTask(env, [this, path]() {
        ggml_context * data = nullptr;
        gguf_init_params gp = {false, &data};
        GgufPtr g(gguf_init_from_file(path.c_str(), gp));
        GgmlPtr dataOwner(data);
        if (!g) throw CodedError("ERR_READ", "could not read weights: " + path);
        for (size_t i = 0; i < params_.size(); ++i) {
            ggml_tensor * t = ggml_get_tensor(data, paramNames_[i].c_str());
            if (!t || t->type != GGML_TYPE_F32 || ggml_nelements(t) != ggml_nelements(params_[i]) || params_[i]->type != GGML_TYPE_F32) {
                throw CodedError("ERR_INVALID_STATE", "the weights in " + path + " do not match this trainer (tensor " + paramNames_[i] + ")");
            }
            ggml_backend_tensor_set(params_[i], t->data, 0, ggml_nbytes(params_[i]));
        }
    });
}

// Optimizer state (AdamW m and v per trainable tensor, iteration) for checkpoints that resume.
Napi::Value TrainerWrap::SaveOptimizer(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    std::string path = ArgString(info, 0, "path");
    return RunTask(env, [this, path]() {
        ggml_opt_context_t oc = llama_opt_get_context(ctx_);
        GgufPtr g(gguf_init_empty());
        gguf_set_val_str(g.get(), "general.type", "mfner.optimizer");
        gguf_set_val_u64(g.get(), "optimizer.iteration", static_cast<uint64_t>(ggml_opt_get_iter(oc)));
        gguf_set_val_u64(g.get(), "optimizer.steps", static_cast<uint64_t>(optimizerSteps_));
        std::vector<std::vector<float>> keep;
        ggml_init_params ip = {(params_.size() * 2 + 1) * ggml_tensor_overhead(), nullptr, true};
        GgmlPtr meta(ggml_init(ip));
        keep.reserve(params_.size() * 2);
        for (size_t i = 0; i < params_.size(); ++i) {
            for (int which = 0; which < 2; ++which) {
                ggml_tensor * m = ggml_opt_param_momentum(oc, params_[i], which);
                if (!m) continue;
                keep.emplace_back(static_cast<size_t>(ggml_nelements(m)));
                ggml_backend_tensor_get(m, keep.back().data(), 0, ggml_nbytes(m));
                ggml_tensor * t = ggml_new_tensor_1d(meta.get(), GGML_TYPE_F32, ggml_nelements(m));
                ggml_set_name(t, (std::to_string(i) + (which == 0 ? ".m" : ".v")).c_str());
                t->data = keep.back().data();
                gguf_add_tensor(g.get(), t);
            }
        }
        if (!gguf_write_to_file(g.get(), path.c_str(), false)) throw CodedError("ERR_WRITE", "could not write the optimizer state to " + path);
    });
}

// loadOptimizer(path) -> Promise
Napi::Value TrainerWrap::LoadOptimizer(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    RequireIdle(env);
    std::string path = ArgString(info, 0, "path");
    ggml_opt_context_t oc = llama_opt_get_context(ctx_);
    if (!ggml_opt_param_momentum(oc, params_[0], 0)) Throw(env, "ERR_INVALID_STATE", "run one step (it may be an evaluation) before loading optimizer state");
    return RunTask(env, [this, path, oc]() {
        ggml_context * data = nullptr;
        gguf_init_params gp = {false, &data};
        GgufPtr g(gguf_init_from_file(path.c_str(), gp));
        GgmlPtr dataOwner(data);
        if (!g) throw CodedError("ERR_READ", "could not read optimizer state: " + path);
        for (size_t i = 0; i < params_.size(); ++i) {
            for (int which = 0; which < 2; ++which) {
                ggml_tensor * m = ggml_opt_param_momentum(oc, params_[i], which);
                ggml_tensor * t = ggml_get_tensor(data, (std::to_string(i) + (which == 0 ? ".m" : ".v")).c_str());
                if (!m || !t || ggml_nelements(t) != ggml_nelements(m)) throw CodedError("ERR_INVALID_STATE", "optimizer state does not match this trainer");
                ggml_backend_tensor_set(m, t->data, 0, ggml_nbytes(m));
            }
        }
        int64_t k = gguf_find_key(g.get(), "optimizer.iteration");
        if (k >= 0) ggml_opt_set_iter(oc, static_cast<int64_t>(gguf_get_val_u64(g.get(), k)));
        k = gguf_find_key(g.get(), "optimizer.steps");
        if (k >= 0) optimizerSteps_ = static_cast<int64_t>(gguf_get_val_u64(g.get(), k));
        ggml_opt_reset_grads(oc);
    });
}

// dispose() during a step or a save: that work finishes (its promise settles as usual) and the
// trainer is freed as it settles; every call from now on is refused with ERR_DISPOSED.
Napi::Value TrainerWrap::Dispose(const Napi::CallbackInfo & info) {
    disposing_ = true;
    if (!busy_) FreeNow();
    return info.Env().Undefined();
}

void TrainerWrap::Settle() {
    busy_ = false;
    if (disposing_) FreeNow();
}

}  // namespace mfner

#endif  // MFNER_HAS_TRAINER
