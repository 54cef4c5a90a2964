// Labeled text read from a file a researcher already has: tab-separated with a header row (the shipped few-shot
// splits), comma-separated with RFC 4180 quoting (as pandas and spreadsheets write it), or JSON Lines. Rows keep
// their label as written — an integer or a name — and the line it came from, so errors can point at it.
import Foundation

/// One example as read: its text, its label as written and the (1-based) line it starts on.
public struct DataRow: Sendable, Equatable {
    public var text: String
    public var label: String
    public var line: Int

    public init(text: String, label: String, line: Int) { self.text = text; self.label = label; self.line = line }
}

public enum DataFileFormat: String, Sendable, CaseIterable {
    case tsv, csv, jsonl

    public init?(url: URL) { self.init(rawValue: url.pathExtension.lowercased()) }
}

/// Which fields hold the text and the label: given names, or the defaults `sentence`/`text` and `label`.
public struct DataColumns: Sendable, Equatable {
    public var text: String?
    public var label: String?

    public init(text: String? = nil, label: String? = nil) { self.text = text; self.label = label }

    static let defaultText = ["sentence", "text"]
    static let defaultLabel = "label"

    var textCandidates: [String] { text.map { [$0] } ?? Self.defaultText }
    var labelName: String { label ?? Self.defaultLabel }
}

public enum DataFile {
    /// Reads every non-empty row of a .tsv, .csv or .jsonl file.
    public static func read(_ url: URL, columns: DataColumns = DataColumns()) throws -> [DataRow] {
        guard let format = DataFileFormat(url: url) else {
            throw DatasetError.malformed(file: url.path, line: 0, reason: "unknown format: use .tsv, .csv or .jsonl")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DatasetError.missingFile(url.path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.malformed(file: url.path, line: 0, reason: "not UTF-8 text")
        }
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        let rows: [DataRow]
        switch format {
        case .tsv: rows = try table(lines(body).map { ($0.number, $0.text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)) },
                                    file: url.path, columns: columns, separator: "tab")
        case .csv: rows = try table(try csvRecords(body, file: url.path), file: url.path, columns: columns, separator: "comma")
        case .jsonl: rows = try jsonLines(body, file: url.path, columns: columns)
        }
        guard !rows.isEmpty else { throw DatasetError.empty(url.path) }
        return rows
    }

    /// Lines with their numbers; \n, \r\n and \r all end a line (Swift reads \r\n as one character).
    static func lines(_ text: String) -> [(number: Int, text: String)] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().map { ($0 + 1, String($1)) }
    }

    /// A header row then records; blank records are skipped; missing columns and short records are errors.
    static func table(_ records: [(number: Int, fields: [String])], file: String, columns: DataColumns, separator: String) throws -> [DataRow] {
        guard let header = records.first(where: { !isBlank($0.fields) }) else { throw DatasetError.empty(file) }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let textColumn = columns.textCandidates.lazy.compactMap({ names.firstIndex(of: $0) }).first else {
            throw DatasetError.missingColumn(file: file, line: header.number, column: columns.textCandidates.joined(separator: " or "), header: names)
        }
        guard let labelColumn = names.firstIndex(of: columns.labelName) else {
            throw DatasetError.missingColumn(file: file, line: header.number, column: columns.labelName, header: names)
        }
        return try records.drop { $0.number <= header.number }.filter { !isBlank($0.fields) }.map { record in
            guard record.fields.count > max(textColumn, labelColumn) else {
                throw DatasetError.malformed(file: file, line: record.number,
                                             reason: "expected \(names.count) \(separator)-separated fields, found \(record.fields.count)")
            }
            return DataRow(text: record.fields[textColumn].trimmingCharacters(in: .whitespaces),
                           label: record.fields[labelColumn].trimmingCharacters(in: .whitespaces), line: record.number)
        }
    }

    static func isBlank(_ fields: [String]) -> Bool { fields.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } }

    /// RFC 4180: fields separated by commas, records by line breaks; a quoted field may hold commas, line breaks
    /// and doubled quotes. Each record carries the line it starts on.
    static func csvRecords(_ text: String, file: String) throws -> [(number: Int, fields: [String])] {
        var records: [(number: Int, fields: [String])] = []
        var fields: [String] = [], field = "", quoted = false, afterQuote = false
        var line = 1, recordLine = 1
        var characters = text.makeIterator()
        var pending: Character? = nil
        func endRecord() {
            fields.append(field)
            records.append((recordLine, fields))
            fields = []; field = ""; afterQuote = false
            recordLine = line
        }
        while let c = pending ?? characters.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    let next = characters.next()
                    if next == "\"" { field.append("\"") } else { quoted = false; afterQuote = true; pending = next }
                } else {
                    if c.isNewline { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case ",":
                fields.append(field); field = ""; afterQuote = false
            case "\"" where field.trimmingCharacters(in: .whitespaces).isEmpty && !afterQuote:
                field = ""; quoted = true
            case let c where c.isNewline:
                line += 1
                endRecord()
            default:
                if afterQuote && !c.isWhitespace {
                    throw DatasetError.malformed(file: file, line: line, reason: "text after a closing quote; write a quote inside a quoted field as \"\"")
                }
                if !afterQuote { field.append(c) }
            }
        }
        if quoted { throw DatasetError.malformed(file: file, line: recordLine, reason: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }

    /// One JSON object per line; the text and label fields are strings or numbers.
    static func jsonLines(_ text: String, file: String, columns: DataColumns) throws -> [DataRow] {
        try lines(text).filter { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }.map { number, line in
            guard let object = try? JSONDecoder().decode([String: JSONScalar].self, from: Data(line.utf8)) else {
                throw DatasetError.malformed(file: file, line: number, reason: "not a JSON object")
            }
            func value(_ names: [String]) throws -> String {
                guard let value = names.lazy.compactMap({ object[$0] }).first else {
                    throw DatasetError.missingColumn(file: file, line: number, column: names.joined(separator: " or "), header: object.keys.sorted())
                }
                guard case .text(let text) = value else {
                    throw DatasetError.malformed(file: file, line: number, reason: "\(names[0]) must be a string or a number")
                }
                return text.trimmingCharacters(in: .whitespaces)
            }
            return DataRow(text: try value(columns.textCandidates), label: try value([columns.labelName]), line: number)
        }
    }
}

/// A JSON value as a data row sees it: strings and numbers are text; anything else is not a field it can use.
enum JSONScalar: Decodable {
    case text(String)
    case other

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) { self = .text(string) }
        else if let integer = try? container.decode(Int.self) { self = .text(String(integer)) }
        else if let number = try? container.decode(Double.self) { self = .text(String(number)) }
        else { self = .other }
    }
}
