// llama.cpp's own quantizer over a GGUF file: to a smaller type (q8_0, q4_K_M...), to F16/BF16,
// or back to F32 (a quantized model dequantized, for checks against its own type).
#pragma once

#include <napi.h>

namespace mfner {

// quantizeModel({ input, output, type, threads, pure }) -> Promise<{ type, inputBytes, outputBytes }>
Napi::Value QuantizeModel(const Napi::CallbackInfo & info);

}  // namespace mfner
