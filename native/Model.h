// A loaded GGUF model: metadata, tokenizer and chat rendering. Contexts keep it alive.
#pragma once

#include <napi.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "llama.h"

namespace mfner {

struct ModelOptions {
    int32_t gpuLayers = 0;   // 0 on CPU builds; -1 = all when CUDA was built
    bool vocabOnly = false;
    bool useMmap = true;
    bool shareTiedOutput = false;  // patch 0010: one tensor for a tied embedding and head
    // llama.cpp's CPU_REPACK buffers (interleaved Q4_0/Q4_K/... for faster matmuls): they serve the
    // forward matmul only, so a model loaded for training turns them off
    bool repack = true;
    bool upcastF32 = false;  // patch 0013: F16/BF16 weights loaded as F32 (full fine-tuning)
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    static Napi::FunctionReference constructor;
    explicit ModelWrap(const Napi::CallbackInfo & info);
    ~ModelWrap() override;

    // For contexts: the loaded model, or a thrown ERR_DISPOSED.
    llama_model * Require(Napi::Env env);
    const llama_vocab * Vocab() const { return vocab_; }
    void AddContext() { ++liveContexts_; }
    void RemoveContext();

    // Tokenises without touching JS (safe on worker threads).
    std::vector<llama_token> TokenizeUtf8(const std::string & text, bool addSpecial, bool parseSpecial) const;
    std::string Piece(llama_token token, bool special) const;
    // A loaded LoRA adapter by id (see loadAdapter), or nullptr.
    llama_adapter_lora * Adapter(uint32_t id) const { return id < adapters_.size() ? adapters_[id] : nullptr; }

private:
    Napi::Value Load(const Napi::CallbackInfo & info);
    Napi::Value Metadata(const Napi::CallbackInfo & info);
    Napi::Value Weights(const Napi::CallbackInfo & info);
    Napi::Value Tokenize(const Napi::CallbackInfo & info);
    Napi::Value Detokenize(const Napi::CallbackInfo & info);
    Napi::Value TokenPieces(const Napi::CallbackInfo & info);
    Napi::Value RenderChat(const Napi::CallbackInfo & info);
    Napi::Value LoadAdapter(const Napi::CallbackInfo & info);
    Napi::Value UnloadAdapter(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    void FreeNow();

    friend class LoadModelWorker;
    std::string path_;
    ModelOptions options_;
    llama_model * model_ = nullptr;
    const llama_vocab * vocab_ = nullptr;
    bool loading_ = false;
    bool disposed_ = false;
    std::atomic<int> liveContexts_{0};
    std::vector<llama_adapter_lora *> adapters_;  // freed with the model
};

}  // namespace mfner
