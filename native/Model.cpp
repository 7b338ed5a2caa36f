#include "Model.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include "ModelCheck.h"
#include "PromiseWorker.h"
#include "ggml-backend.h"
#include "ggml.h"
#include "chat.h"
#include "util.h"

namespace mfner {

Napi::FunctionReference ModelWrap::constructor;


class LoadModelWorker : public PromiseWorker {
public:
    explicit LoadModelWorker(ModelWrap * model)
        : PromiseWorker(model->Env(), model->Value(), "ERR_MODEL_LOAD", "model load failed"), model_(model) {}

protected:
    void Run() override {
        CheckGgufFile(model_->path_);
        CheckModelHeader(model_->path_, model_->options_.vocabOnly);
        llama_model_params params = llama_model_default_params();
        params.n_gpu_layers = model_->options_.gpuLayers;
        params.vocab_only = model_->options_.vocabOnly;
        if (!model_->options_.useMmap) params.load_mode = LLAMA_LOAD_MODE_NONE;
        params.share_tied_output = model_->options_.shareTiedOutput;
        params.use_extra_bufts = model_->options_.repack;
        params.upcast_f32 = model_->options_.upcastF32;
        loaded_ = llama_model_load_from_file(model_->path_.c_str(), params);
        if (!loaded_) {
            throw CodedError("ERR_MODEL_LOAD", "llama.cpp could not load the model (truncated, corrupt or unsupported GGUF): " + model_->path_);
        }
    }

    void Settled() override { model_->loading_ = false; }

    Napi::Value Result(Napi::Env) override {
        if (model_->disposed_) {  // disposed while loading: drop the result
            llama_model_free(loaded_);
            throw CodedError("ERR_DISPOSED", "model was disposed while loading");
        }
        model_->model_ = loaded_;
        model_->vocab_ = llama_model_get_vocab(loaded_);
        return model_->Value();
    }

private:
    ModelWrap * model_;
    llama_model * loaded_ = nullptr;
};

Napi::Object ModelWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass(env, "Model", {
        InstanceMethod<&ModelWrap::Load>("load"),
        InstanceMethod<&ModelWrap::Metadata>("metadata"),
        InstanceMethod<&ModelWrap::Weights>("weights"),
        InstanceMethod<&ModelWrap::Tokenize>("tokenize"),
        InstanceMethod<&ModelWrap::Detokenize>("detokenize"),
        InstanceMethod<&ModelWrap::TokenPieces>("tokenPieces"),
        InstanceMethod<&ModelWrap::RenderChat>("renderChat"),
        InstanceMethod<&ModelWrap::LoadAdapter>("loadAdapter"),
        InstanceMethod<&ModelWrap::UnloadAdapter>("unloadAdapter"),
        InstanceMethod<&ModelWrap::Dispose>("dispose"),
    });
    constructor = Napi::Persistent(func);
    constructor.SuppressDestruct();
    exports.Set("Model", func);
    return exports;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<ModelWrap>(info) {
    path_ = ArgString(info, 0, "model path");
    Napi::Object opts = OptObject(info, 1);
    options_.gpuLayers = static_cast<int32_t>(OptNumber(opts, "gpuLayers", MFNER_CUDA ? -1 : 0));
    options_.vocabOnly = OptBool(opts, "vocabOnly", false);
    options_.useMmap = OptBool(opts, "useMmap", true);
    options_.shareTiedOutput = OptBool(opts, "shareTiedOutput", false);
    options_.repack = OptBool(opts, "repack", true);
    options_.upcastF32 = OptBool(opts, "upcastF32", false);
    if (options_.upcastF32 && options_.useMmap) Throw(info.Env(), "ERR_INVALID_ARG", "upcastF32 needs useMmap: false (the F32 copy is made while reading)");
}

ModelWrap::~ModelWrap() { FreeNow(); }

void ModelWrap::FreeNow() {
    for (auto * a : adapters_) if (a) llama_adapter_lora_free(a);
    adapters_.clear();
    if (model_) {
        llama_model_free(model_);
        model_ = nullptr;
        vocab_ = nullptr;
    }
}

void ModelWrap::RemoveContext() {
    if (--liveContexts_ == 0 && disposed_) FreeNow();
}

llama_model * ModelWrap::Require(Napi::Env env) {
    if (disposed_) Throw(env, "ERR_DISPOSED", "model is disposed");
    if (!model_) Throw(env, "ERR_NOT_LOADED", "model is not loaded yet");
    return model_;
}

Napi::Value ModelWrap::Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (model_ || loading_) Throw(env, "ERR_INVALID_STATE", "model is already loaded or loading");
    if (disposed_) Throw(env, "ERR_DISPOSED", "model is disposed");
    loading_ = true;
    return (new LoadModelWorker(this))->Start();
}

Napi::Value ModelWrap::Metadata(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * m = Require(env);
    Napi::Object out = Napi::Object::New(env);
    auto metaString = [&](const char * key) -> Napi::Value {
        int32_t n = llama_model_meta_val_str(m, key, nullptr, 0);
        if (n < 0) return env.Null();
        std::string buf(static_cast<size_t>(n) + 1, '\0');
        llama_model_meta_val_str(m, key, buf.data(), buf.size());
        buf.resize(static_cast<size_t>(n));
        return Napi::String::New(env, buf);
    };
    char desc[256];
    llama_model_desc(m, desc, sizeof(desc));
    out.Set("architecture", metaString("general.architecture"));
    out.Set("name", metaString("general.name"));
    out.Set("description", Napi::String::New(env, desc));
    out.Set("parameterCount", Napi::Number::New(env, static_cast<double>(llama_model_n_params(m))));
    out.Set("sizeBytes", Napi::Number::New(env, static_cast<double>(llama_model_size(m))));
    out.Set("vocabularySize", Napi::Number::New(env, llama_vocab_n_tokens(vocab_)));
    out.Set("contextLength", Napi::Number::New(env, llama_model_n_ctx_train(m)));
    out.Set("embeddingLength", Napi::Number::New(env, llama_model_n_embd(m)));
    out.Set("layerCount", Napi::Number::New(env, llama_model_n_layer(m)));
    const char * tmpl = llama_model_chat_template(m, nullptr);
    out.Set("chatTemplate", tmpl ? Napi::String::New(env, tmpl) : env.Null());
    auto tokenOrNull = [&](llama_token t) -> Napi::Value { return t == LLAMA_TOKEN_NULL ? env.Null() : Napi::Number::New(env, t); };
    out.Set("bosToken", tokenOrNull(llama_vocab_bos(vocab_)));
    out.Set("eosToken", tokenOrNull(llama_vocab_eos(vocab_)));
    out.Set("eotToken", tokenOrNull(llama_vocab_eot(vocab_)));
    out.Set("addBos", Napi::Boolean::New(env, llama_vocab_get_add_bos(vocab_)));
    return out;
}

// Every weight tensor as loaded: a tied head loaded twice (one copy per device) shows up twice.
Napi::Value ModelWrap::Weights(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * m = Require(env);
    const int32_t n = llama_model_n_weights(m);
    Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
        const ggml_tensor * t = llama_model_weight(m, i);
        Napi::Object w = Napi::Object::New(env);
        w.Set("name", Napi::String::New(env, ggml_get_name(t)));
        w.Set("type", Napi::String::New(env, ggml_type_name(t->type)));
        w.Set("buffer", t->buffer ? Napi::String::New(env, ggml_backend_buffer_name(t->buffer)) : env.Null());
        out.Set(static_cast<uint32_t>(i), w);
    }
    return out;
}

std::vector<llama_token> ModelWrap::TokenizeUtf8(const std::string & text, bool addSpecial, bool parseSpecial) const {
    int32_t n = -llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), nullptr, 0, addSpecial, parseSpecial);
    if (n == INT32_MIN) throw CodedError("ERR_INVALID_ARG", "text is too long to tokenize");
    std::vector<llama_token> tokens(static_cast<size_t>(std::max(n, 0)));
    if (n > 0) {
        int32_t got = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), tokens.data(), n, addSpecial, parseSpecial);
        tokens.resize(static_cast<size_t>(std::max(got, 0)));
    }
    return tokens;
}

std::string ModelWrap::Piece(llama_token token, bool special) const {
    char small[64];
    int32_t n = llama_token_to_piece(vocab_, token, small, sizeof(small), 0, special);
    if (n >= 0) return std::string(small, static_cast<size_t>(n));
    std::string buf(static_cast<size_t>(-n), '\0');
    n = llama_token_to_piece(vocab_, token, buf.data(), static_cast<int32_t>(buf.size()), 0, special);
    buf.resize(static_cast<size_t>(std::max(n, 0)));
    return buf;
}

Napi::Value ModelWrap::Tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Require(env);
    std::string text = ArgString(info, 0, "text");
    Napi::Object opts = OptObject(info, 1);
    std::vector<llama_token> tokens;
    try {
        tokens = TokenizeUtf8(text, OptBool(opts, "addSpecial", false), OptBool(opts, "parseSpecial", false));
    } catch (const CodedError & e) {
        Throw(env, e.code(), e.what());
    }
    auto out = Napi::Int32Array::New(env, tokens.size());
    std::memcpy(out.Data(), tokens.data(), tokens.size() * sizeof(llama_token));
    return out;
}

namespace {

// Validates a JS token list against the vocabulary (no bad id may reach llama.cpp).
std::vector<llama_token> ReadTokens(Napi::Env env, const Napi::Value & v, int32_t nVocab) {
    std::vector<llama_token> tokens;
    if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
        auto arr = v.As<Napi::Int32Array>();
        tokens.assign(arr.Data(), arr.Data() + arr.ElementLength());
    } else if (v.IsArray()) {
        auto arr = v.As<Napi::Array>();
        tokens.reserve(arr.Length());
        for (uint32_t i = 0; i < arr.Length(); ++i) {
            Napi::Value t = arr.Get(i);
            if (!t.IsNumber()) Throw(env, "ERR_INVALID_TOKEN", "token " + std::to_string(i) + " is not a number");
            double d = t.As<Napi::Number>().DoubleValue();
            if (d != static_cast<double>(static_cast<int64_t>(d))) Throw(env, "ERR_INVALID_TOKEN", "token " + std::to_string(i) + " is not an integer");
            tokens.push_back(static_cast<llama_token>(d));
        }
    } else {
        Throw(env, "ERR_INVALID_ARG", "tokens must be an array or Int32Array");
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] < 0 || tokens[i] >= nVocab) {
            Throw(env, "ERR_INVALID_TOKEN", "token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                                                 " is outside the vocabulary (0.." + std::to_string(nVocab - 1) + ")");
        }
    }
    return tokens;
}

}  // namespace

Napi::Value ModelWrap::Detokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Require(env);
    if (info.Length() < 1) Throw(env, "ERR_INVALID_ARG", "tokens are required");
    auto tokens = ReadTokens(env, info[0], llama_vocab_n_tokens(vocab_));
    Napi::Object opts = OptObject(info, 1);
    bool special = OptBool(opts, "special", false);
    std::string out(tokens.size() * 8 + 16, '\0');
    int32_t n = llama_detokenize(vocab_, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(), static_cast<int32_t>(out.size()), false, special);
    if (n < 0) {
        out.resize(static_cast<size_t>(-n));
        n = llama_detokenize(vocab_, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(), static_cast<int32_t>(out.size()), false, special);
    }
    out.resize(static_cast<size_t>(std::max(n, 0)));
    return Napi::String::New(env, out);
}

// Raw bytes of each token (a piece may be part of a UTF-8 character), as Buffers.
Napi::Value ModelWrap::TokenPieces(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Require(env);
    if (info.Length() < 1) Throw(env, "ERR_INVALID_ARG", "tokens are required");
    auto tokens = ReadTokens(env, info[0], llama_vocab_n_tokens(vocab_));
    Napi::Object opts = OptObject(info, 1);
    bool special = OptBool(opts, "special", true);
    Napi::Array out = Napi::Array::New(env, tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        std::string p = Piece(tokens[i], special);
        out.Set(static_cast<uint32_t>(i), Napi::Buffer<char>::Copy(env, p.data(), p.size()));
    }
    return out;
}

// Renders messages with the model's own Jinja chat template (or an override).
Napi::Value ModelWrap::RenderChat(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * m = Require(env);
    if (info.Length() < 1 || !info[0].IsArray()) Throw(env, "ERR_INVALID_ARG", "messages must be an array");
    Napi::Array arr = info[0].As<Napi::Array>();
    Napi::Object opts = OptObject(info, 1);
    std::string override = OptString(opts, "template", "");
    if (override.empty() && llama_model_chat_template(m, nullptr) == nullptr) {
        Throw(env, "ERR_NO_CHAT_TEMPLATE", "the model has no chat template; pass one with the template option");
    }
    common_chat_templates_inputs inputs;
    inputs.use_jinja = true;
    inputs.add_generation_prompt = OptBool(opts, "addGenerationPrompt", true);
    // Templates that print today's date (Llama 3.x) would make prompts change from day to day;
    // a fixed date keeps training and inference prompts identical. JSON-encoded for common.
    std::string date = OptString(opts, "date", "26 Jul 2024");
    inputs.chat_template_kwargs["date_string"] = "\"" + date + "\"";
    for (uint32_t i = 0; i < arr.Length(); ++i) {
        Napi::Value v = arr.Get(i);
        if (!v.IsObject()) Throw(env, "ERR_INVALID_ARG", "message " + std::to_string(i) + " must be an object");
        Napi::Object msg = v.As<Napi::Object>();
        common_chat_msg cm;
        cm.role = OptString(msg, "role", "");
        cm.content = OptString(msg, "content", "");
        if (cm.role != "system" && cm.role != "user" && cm.role != "assistant") {
            Throw(env, "ERR_INVALID_ARG", "message " + std::to_string(i) + " has role \"" + cm.role + "\"; expected system, user or assistant");
        }
        inputs.messages.push_back(std::move(cm));
    }
    try {
        auto templates = common_chat_templates_init(m, override);
        common_chat_params params = common_chat_templates_apply(templates.get(), inputs);
        return Napi::String::New(env, params.prompt);
    } catch (const std::exception & e) {
        Throw(env, "ERR_CHAT_TEMPLATE", std::string("chat template failed: ") + e.what());
    }
}

// loadAdapter(path) -> id: reads a GGUF LoRA adapter made for this model.
Napi::Value ModelWrap::LoadAdapter(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_model * m = Require(env);
    std::string path = ArgString(info, 0, "adapter path");
    try {
        CheckGgufFile(path, true);
    } catch (const CodedError & e) {
        Throw(env, e.code(), e.what());
    }
    llama_adapter_lora * a = llama_adapter_lora_init(m, path.c_str());
    if (!a) Throw(env, "ERR_ADAPTER_LOAD", "llama.cpp could not load the LoRA adapter (not an adapter, or made for another model): " + path);
    adapters_.push_back(a);
    return Napi::Number::New(env, static_cast<double>(adapters_.size() - 1));
}

// unloadAdapter(id): frees an adapter no context applies any more (the TS layer checks that).
Napi::Value ModelWrap::UnloadAdapter(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Require(env);
    double id = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    if (!(id >= 0 && id < adapters_.size()) || id != std::floor(id) || !adapters_[static_cast<size_t>(id)]) {
        Throw(env, "ERR_INVALID_ARG", "no such adapter on this model");
    }
    llama_adapter_lora_free(adapters_[static_cast<size_t>(id)]);
    adapters_[static_cast<size_t>(id)] = nullptr;
    return env.Undefined();
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo & info) {
    disposed_ = true;
    if (liveContexts_ == 0) FreeNow();  // otherwise the last context frees it
    return info.Env().Undefined();
}

}  // namespace mfner
