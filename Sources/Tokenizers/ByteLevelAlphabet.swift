// GPT-2's byte-to-character table: every byte gets a printable character so vocabulary files are text.
// Follows `bytes_to_unicode` in OpenAI's gpt-2 `encoder.py`.

/// The 256 characters GPT-2 vocabulary files use to spell bytes (`Ġ` is the space byte 0x20).
enum ByteLevelAlphabet {
    /// `scalar[b]` spells byte `b`.
    static let scalars: [Unicode.Scalar] = {
        // Printable Latin-1 bytes stand for themselves; the others (controls, space, 0x7F-0xA0, soft
        // hyphen) are moved, in byte order, to U+0100 and up.
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a character spells, or nil when the character is not in the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 256 {
            let byte = UInt8(value)
            return scalars[Int(byte)] == scalar ? byte : nil
        }
        return bytesAboveLatin1[value]
    }

    private static let bytesAboveLatin1: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for byte in 0..<256 where scalars[byte].value >= 256 {
            map[scalars[byte].value] = UInt8(byte)
        }
        return map
    }()

    /// The bytes a vocabulary entry spells, or nil if it uses a character outside the alphabet.
    static func bytes(of token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// A byte string spelled in the alphabet (the inverse of `bytes(of:)`).
    static func spelling(of bytes: some Sequence<UInt8>) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalars[Int(byte)]) }
        return String(text)
    }
}
