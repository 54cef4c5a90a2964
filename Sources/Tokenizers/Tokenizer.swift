// Tokenizer protocol and implementations (placeholder).
