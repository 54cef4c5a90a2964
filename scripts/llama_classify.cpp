// llama.cpp's side of `legible bench gemma3-270m/classify`: the first COUNT sentences of an SST-2 test.tsv as
// "<sentence> It was", tokenized with the model's own tokenizer (beginning-of-sequence first), decoded as one
// batch of COUNT sequences with logits requested only at each sequence's last token — the way a llama.cpp user
// scores a batch of prompts. Built by scripts/build-llama-cpp; run by scripts/bench-compare.
//
//   legible-llama-classify MODEL.gguf TEST.tsv [--count 32] [--threads 2] [--repeats 3] [--warmup 1]
//
// Prints one JSON object: tokens per pass, each timed pass's seconds, and the " great" − " terrible" logit
// difference of the first sentence (a check that both sides score the same text).
#include "llama.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

static std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special) {
    int n = -llama_tokenize(vocab, text.c_str(), (int32_t) text.size(), nullptr, 0, add_special, false);
    std::vector<llama_token> ids(n);
    llama_tokenize(vocab, text.c_str(), (int32_t) text.size(), ids.data(), n, add_special, false);
    return ids;
}

int main(int argc, char ** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.gguf TEST.tsv [--count N] [--threads N] [--repeats N] [--warmup N]\n", argv[0]);
        return 2;
    }
    int count = 32, threads = 2, repeats = 3, warmup = 1;
    for (int i = 3; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        int value = atoi(argv[i + 1]);
        if (flag == "--count") count = value;
        else if (flag == "--threads") threads = value;
        else if (flag == "--repeats") repeats = value;
        else if (flag == "--warmup") warmup = value;
        else { fprintf(stderr, "unknown flag %s\n", flag.c_str()); return 2; }
    }

    std::ifstream file(argv[2]);
    std::string line;
    std::getline(file, line);  // header
    std::vector<std::string> texts;
    while ((int) texts.size() < count && std::getline(file, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        texts.push_back(line.substr(0, line.find('\t')) + " It was");
    }
    if (texts.empty()) { fprintf(stderr, "no sentences in %s\n", argv[2]); return 1; }

    llama_backend_init();
    llama_model_params model_params = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(argv[1], model_params);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);

    std::vector<std::vector<llama_token>> ids;
    int total = 0;
    for (const auto & text : texts) { ids.push_back(tokenize(vocab, text, true)); total += (int) ids.back().size(); }
    const llama_token great = tokenize(vocab, " great", false)[0], terrible = tokenize(vocab, " terrible", false)[0];

    llama_context_params context_params = llama_context_default_params();
    context_params.n_ctx = total + 64;
    context_params.n_batch = total;
    context_params.n_ubatch = total;
    context_params.n_seq_max = (uint32_t) ids.size();
    context_params.n_threads = threads;
    context_params.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, context_params);
    if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }

    llama_batch batch = llama_batch_init(total, 0, 1);
    std::vector<double> seconds;
    float difference = 0;
    for (int pass = 0; pass < warmup + repeats; ++pass) {
        llama_memory_clear(llama_get_memory(ctx), true);
        batch.n_tokens = 0;
        for (size_t s = 0; s < ids.size(); ++s) {
            for (size_t t = 0; t < ids[s].size(); ++t) {
                int i = batch.n_tokens++;
                batch.token[i] = ids[s][t];
                batch.pos[i] = (llama_pos) t;
                batch.n_seq_id[i] = 1;
                batch.seq_id[i][0] = (llama_seq_id) s;
                batch.logits[i] = t + 1 == ids[s].size();
            }
        }
        auto start = std::chrono::steady_clock::now();
        if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "llama_decode failed\n"); return 1; }
        const float * logits = llama_get_logits_ith(ctx, (int32_t) ids[0].size() - 1);
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        difference = logits[great] - logits[terrible];
        if (pass >= warmup) seconds.push_back(elapsed);
    }

    printf("{\"sequences\": %zu, \"tokens\": %d, \"threads\": %d, \"seconds\": [", ids.size(), total, threads);
    for (size_t i = 0; i < seconds.size(); ++i) printf("%s%.6f", i ? ", " : "", seconds[i]);
    printf("], \"first_great_minus_terrible\": %.6f}\n", difference);

    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
