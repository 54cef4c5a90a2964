// Escaping for the text formats reports are written in: XML/HTML (SVG plots, index.html), CSV (RFC 4180) and
// Markdown tables. Prompts are arbitrary Unicode and may hold '<', '&', quotes, '|' and control characters.
import Foundation
import Runs
import Sweeps

public enum TextEscaping {
    /// Text for XML or HTML content and attribute values. Characters XML 1.0 forbids (C0 controls other than tab,
    /// newline and carriage return, U+FFFE, U+FFFF) are written visibly as \u{…}.
    public static func xml(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out += "&#\(scalar.value);"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += visible(scalar)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// One CSV field: quoted, with quotes doubled, when it holds a comma, quote, newline or carriage return,
    /// or starts or ends with a space (which some readers trim).
    public static func csv(_ text: String) -> String {
        let special = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            || text.first == " " || text.last == " "
        guard special else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text for one cell of a Markdown table: the characters Markdown would act on inside a cell (\ ` * _ ~ < > [ ]
    /// & | $) backslash-escaped (CommonMark), control characters shown as \n, \t or \u{…}, so the cell stays on one
    /// line and renders as the text itself.
    public static func markdown(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\\\n"
            case "\t": out += "\\\\t"
            case "\r": out += "\\\\r"
            case "\\", "`", "*", "_", "~", "<", ">", "[", "]", "&", "|", "$":
                out += "\\"
                out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\" + visible(scalar)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    static func visible(_ scalar: Unicode.Scalar) -> String { "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}" }
}
