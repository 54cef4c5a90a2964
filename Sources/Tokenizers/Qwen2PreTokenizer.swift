// Qwen2's pre-tokenizer, as a scanner over Unicode scalars like GPT-2's. Follows the regex of Qwen2's tokenizer
// (transformers `tokenization_qwen2.PRETOKENIZE_REGEX`, llama.cpp's "qwen2" pre-tokenizer):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Classes as in GPT-2's (`\s` White_Space, `\p{L}` L*, `\p{N}` Nd Nl No). Case-insensitive matching is
// Oniguruma's, the engine Hugging Face tokenizers runs: of all non-ASCII scalars only U+017F ſ (long s) folds to one
// of the contraction letters, so `'ſ` is a contraction too (checked against every scalar).

extension GPT2PreTokenizer {
    @inline(__always)
    private static func isNewline(_ value: UInt32) -> Bool { value == 0x0A || value == 0x0D }

    /// The length in bytes of a contraction `'s 't 're 've 'm 'll 'd` in any case starting at the apostrophe
    /// at byte `i`, or 0.
    @inline(__always)
    private static func contractionLength(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let n = text.count
        guard i + 1 < n else { return 0 }
        let c1 = text[i + 1]
        // U+017F LATIN SMALL LETTER LONG S (C5 BF) folds to s.
        if c1 == 0xC5, i + 2 < n, text[i + 2] == 0xBF { return 3 }
        guard c1 < 0x80 else { return 0 }
        // `| 0x20` turns an ASCII byte into one of the letters below exactly when it is that letter in either case.
        let b1 = c1 | 0x20
        if b1 == UInt8(ascii: "s") || b1 == UInt8(ascii: "t") || b1 == UInt8(ascii: "m") || b1 == UInt8(ascii: "d") {
            return 2
        }
        guard i + 2 < n, text[i + 2] < 0x80 else { return 0 }
        let b2 = text[i + 2] | 0x20
        if (b1 == UInt8(ascii: "r") && b2 == UInt8(ascii: "e")) || (b1 == UInt8(ascii: "v") && b2 == UInt8(ascii: "e"))
            || (b1 == UInt8(ascii: "l") && b2 == UInt8(ascii: "l")) {
            return 3
        }
        return 0
    }

    /// Splits valid UTF-8 into Qwen2 pre-tokens, each alternative of the regex tried in order at each position.
    @inline(__always)
    static func splitQwen2(
        _ text: UnsafeBufferPointer<UInt8>, classes: UnsafeMutableBufferPointer<UInt8>, _ body: (Range<Int>) -> Void
    ) {
        let n = text.count
        var i = 0
        while i < n {
            let (first, firstLength) = scalar(text, at: i)

            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if first == 0x27 {
                let length = contractionLength(text, at: i)
                if length > 0 { body(i..<(i + length)); i += length; continue }
            }

            let firstClass = classOf(first, classes)
            let afterFirst = i + firstLength

            // [^\r\n\p{L}\p{N}]?\p{L}+ : a letter run, or one scalar that is neither a newline, a letter nor a
            // number (a space, a tab, punctuation) followed by a letter run.
            var lettersStart = -1
            if firstClass == .letter {
                lettersStart = i
            } else if firstClass != .number && !isNewline(first) && afterFirst < n {
                let (next, _) = scalar(text, at: afterFirst)
                if classOf(next, classes) == .letter { lettersStart = afterFirst }
            }
            if lettersStart >= 0 {
                var end = lettersStart
                while end < n {
                    let (value, length) = scalar(text, at: end)
                    if classOf(value, classes) != .letter { break }
                    end += length
                }
                body(i..<end); i = end; continue
            }

            // \p{N} : one number scalar at a time.
            if firstClass == .number { body(i..<afterFirst); i = afterFirst; continue }

            // ` ?[^\s\p{L}\p{N}]+[\r\n]*` : a run of other scalars, after an optional space, then any newlines.
            var otherStart = -1
            if firstClass == .other {
                otherStart = i
            } else if first == 0x20 && afterFirst < n {
                let (next, _) = scalar(text, at: afterFirst)
                if classOf(next, classes) == .other { otherStart = afterFirst }
            }
            if otherStart >= 0 {
                var end = otherStart
                while end < n {
                    let (value, length) = scalar(text, at: end)
                    if classOf(value, classes) != .other { break }
                    end += length
                }
                while end < n && isNewline(UInt32(text[end])) { end += 1 }
                body(i..<end); i = end; continue
            }

            // Only whitespace is left. `\s*[\r\n]+` : the whitespace run up to and including its last newline.
            var end = i
            var lastStart = i
            var afterLastNewline = -1
            while end < n {
                let (value, length) = scalar(text, at: end)
                if classOf(value, classes) != .whitespace { break }
                if isNewline(value) { afterLastNewline = end + length }
                lastStart = end
                end += length
            }
            if afterLastNewline >= 0 { body(i..<afterLastNewline); i = afterLastNewline; continue }

            // `\s+(?!\S)` then `\s+` : a run followed by a non-space gives up its last scalar (which then starts
            // the next word), unless that would leave it empty.
            if end < n && lastStart > i { end = lastStart }
            body(i..<end); i = end
        }
    }
}
