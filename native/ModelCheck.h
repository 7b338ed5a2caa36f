// Checks a model file before llama.cpp opens it: a regular file with the GGUF magic, and header
// values that would reach a GGML_ASSERT (an abort, not an error) in the pinned llama.cpp.
#pragma once

#include <string>

namespace mfner {

// Throws CodedError ERR_MODEL_NOT_FOUND, ERR_NOT_GGUF, or ERR_MODEL_LOAD (ERR_ADAPTER_LOAD for an
// adapter) for a directory, FIFO, socket or device. Never blocks: the path is stat()ed before it
// is opened.
void CheckGgufFile(const std::string & path, bool adapter = false);

// Throws CodedError ERR_MODEL_LOAD naming the first header key whose value llama.cpp would abort
// on (never the value itself). `vocabOnly`: only the tokenizer is checked, as llama.cpp then reads
// no hyper-parameters. A header gguf cannot parse is left to llama.cpp (which refuses it).
void CheckModelHeader(const std::string & path, bool vocabOnly);

}  // namespace mfner
