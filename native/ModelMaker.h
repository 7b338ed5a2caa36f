// Writes a GGUF with random weights for a given shape, with a real tokenizer and chat template.
#pragma once

#include <napi.h>

namespace mfner {

// makeModel(spec) -> Promise<{ path, parameterCount, tensorCount, bytes }>
Napi::Value MakeModel(const Napi::CallbackInfo & info);

}  // namespace mfner
