// How one token is shown to a person: its text, with invisible characters and stray bytes made visible.
// The `<0xE2>` form is the one SentencePiece uses for byte pieces.

enum ReadableToken {
    /// `bytes` as text: valid UTF-8 characters as themselves (newline as `\n`, tab as `\t`, other
    /// control characters as `<0x1B>`), and each byte that is not part of a whole character as `<0xE2>`.
    static func render(_ bytes: [UInt8]) -> String {
        var text = ""
        var i = 0
        while i < bytes.count {
            if let (scalar, length) = scalar(in: bytes, at: i) {
                appendEscaped(scalar, to: &text)
                i += length
            } else {
                text += hexByte(bytes[i])
                i += 1
            }
        }
        return text
    }

    static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "<0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])>"
    }

    static func appendEscaped(_ scalar: Unicode.Scalar, to text: inout String) {
        switch scalar {
        case "\n": text += "\\n"
        case "\t": text += "\\t"
        case "\r": text += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                text += hexByte(UInt8(scalar.value))
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
    }

    /// The well-formed UTF-8 scalar at `i`, or nil when the bytes there do not form one.
    private static func scalar(in bytes: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let b0 = bytes[i]
        let length: Int
        switch b0 {
        case 0x00...0x7F: return (Unicode.Scalar(b0), 1)
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        var decoder = UTF8()
        var iterator = bytes[i..<(i + length)].makeIterator()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) { return (scalar, length) }
        return nil
    }
}
