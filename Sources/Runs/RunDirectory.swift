// A run's folder: run.json (what was asked), state.json (resumable tuner state, rewritten atomically as
// StateSaver decides), log.jsonl (one line per step), prompt.safetensors and report.json (written atomically at
// the end), and for gcg edits.jsonl (one line per accepted token change).
import Foundation
import Kernels
import WeightFiles
import Tasks
import Tuning

public struct RunSettings: Codable, Sendable, Equatable {
    public var model: String
    public var modelSHA256: String
    public var task: String
    public var split: String
    public var data: String
    public var template: String
    public var verbalizers: [String]
    public var configuration: TuningConfiguration
    /// The precision of the frozen model's products; absent (older runs, and every float32 run) means fp32.
    public var precision: Precision?

    public init(model: String, modelSHA256: String, task: String, split: String, data: String, template: String,
                verbalizers: [String], configuration: TuningConfiguration, precision: Precision = .fp32) {
        self.model = model; self.modelSHA256 = modelSHA256; self.task = task; self.split = split; self.data = data
        self.template = template; self.verbalizers = verbalizers; self.configuration = configuration
        self.precision = precision == .fp32 ? nil : precision
    }
}

public enum RunDirectoryError: Error, CustomStringConvertible, Equatable {
    case exists(String)
    case nothingToResume(String)
    case settingsDiffer(String, fields: [String])
    case busy(String, owner: String)
    case unwritable(String, reason: String)
    case unreadable(String, reason: String)

    public var description: String {
        switch self {
        case .exists(let path): return "\(path) already holds a run; pass --resume to continue it or choose another --out"
        case .nothingToResume(let path): return "\(path) holds no run to resume (no state.json)"
        case .settingsDiffer(let path, let fields):
            return "\(path) was started with different settings (\(fields.joined(separator: ", "))); resume with the same options or choose another --out"
        case .busy(let path, let owner):
            return "\(path) is in use by another legible process (pid and host: \(owner)); wait for it, or delete \(path)/lock if that process is gone"
        case .unwritable(let path, let reason): return "cannot write in \(path): \(reason)"
        case .unreadable(let path, let reason): return "\(path) cannot be read back: \(reason); start the run again in a new --out"
        }
    }
}

public struct RunDirectory {
    public let url: URL
    public var settings: URL { url.appendingPathComponent("run.json") }
    public var state: URL { url.appendingPathComponent("state.json") }
    public var log: URL { url.appendingPathComponent("log.jsonl") }
    public var prompt: URL { url.appendingPathComponent("prompt.safetensors") }
    public var report: URL { url.appendingPathComponent("report.json") }
    /// gcg: one line per accepted token change.
    public var edits: URL { url.appendingPathComponent("edits.jsonl") }

    public init(_ url: URL) { self.url = url }

    /// Starts a new run, or with `resume` returns the saved state after checking that the settings match and that
    /// `validate` accepts it — before any file is changed. A run stopped before its first save (run.json, no
    /// state.json) holds nothing to keep: it starts over, with or without `resume`. The caller holds the folder's
    /// `RunLock`.
    public func open(_ runSettings: RunSettings, resume: Bool, validate: (TuningState) throws -> Void = { _ in }) throws -> TuningState? {
        let manager = FileManager.default
        AtomicFile.removeLeftovers(in: url)
        let started = manager.fileExists(atPath: settings.path), saved = manager.fileExists(atPath: state.path)
        if resume && !started && !saved { throw RunDirectoryError.nothingToResume(url.path) }
        if resume || (started && !saved) {
            if started {
                let recorded = try read(RunSettings.self, from: settings)
                let differing = Self.differences(recorded, runSettings)
                if !differing.isEmpty { throw RunDirectoryError.settingsDiffer(url.path, fields: differing) }
            }
            if saved {
                let tuning = try read(TuningState.self, from: state)
                try validate(tuning)
                try truncateLog(after: tuning.step)
                return tuning
            }
            for file in [log, edits] { try? manager.removeItem(at: file) }
        } else if started || saved {
            throw RunDirectoryError.exists(url.path)
        }
        do {
            try manager.createDirectory(at: url, withIntermediateDirectories: true)
            try write(runSettings, to: settings)
        } catch {
            throw RunDirectoryError.unwritable(url.path, reason: Self.reason(error))
        }
        return nil
    }

    func read<T: Decodable>(_ type: T.Type, from file: URL) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: file))
        } catch {
            throw RunDirectoryError.unreadable(file.path, reason: Self.reason(error))
        }
    }

    /// One phrase for a file-system or decoding error instead of its dump.
    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.keyNotFound(_, let context),
             DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "at \(path): ") + context.debugDescription
        case let error as CocoaError:
            if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return String(cString: strerror(Int32(underlying.code)))
            }
            return error.localizedDescription
        default:
            return "\(error)"
        }
    }

    static func differences(_ a: RunSettings, _ b: RunSettings) -> [String] {
        var fields: [String] = []
        if a.modelSHA256 != b.modelSHA256 { fields.append("model") }
        if a.task != b.task { fields.append("task") }
        if a.split != b.split { fields.append("split") }
        if a.template != b.template { fields.append("template") }
        if a.verbalizers != b.verbalizers { fields.append("verbalizers") }
        if (a.precision ?? .fp32) != (b.precision ?? .fp32) { fields.append("precision") }
        var (x, y) = (a.configuration, b.configuration)
        // The step budget may grow on resume; everything else must match.
        x.steps = 0; y.steps = 0
        if x != y { fields.append("tuning options") }
        return fields
    }

    /// After a step: its log line. Lines past the saved state are dropped on resume.
    /// A step's edits (gcg) go to edits.jsonl, one line each, and not into its log line.
    public func append(_ step: StepRecord) throws {
        var record = step
        record.edits = nil
        try Self.append(lines: [JSONEncoder.sortedKeys.encode(record)], to: log)
        if let edits = step.edits, !edits.isEmpty {
            try Self.append(lines: edits.map { try JSONEncoder.sortedKeys.encode($0) }, to: self.edits)
        }
    }

    static func append(lines: [Data], to file: URL) throws {
        var data = Data()
        for line in lines { data.append(line); data.append(0x0A) }
        if let handle = try? FileHandle(forWritingTo: file) {
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
            try handle.close()
        } else {
            try data.write(to: file)
        }
    }

    /// Drops log and edit lines for steps the saved state does not include (written after its last save, before a
    /// crash).
    func truncateLog(after step: Int) throws {
        try Self.keepLines(of: log, through: step, as: StepRecord.self) { $0.step }
        try Self.keepLines(of: edits, through: step, as: PromptEdit.self) { $0.step }
    }

    private static func keepLines<Line: Decodable>(of file: URL, through step: Int, as type: Line.Type, step stepOf: (Line) -> Int) throws {
        guard let data = FileManager.default.contents(atPath: file.path) else { return }
        let kept = data.split(separator: 0x0A).filter { line in
            guard let record = try? JSONDecoder().decode(Line.self, from: Data(line)) else { return false }
            return stepOf(record) <= step
        }
        var out = Data()
        for line in kept { out.append(contentsOf: line); out.append(0x0A) }
        try AtomicFile.write(out, to: file)
    }

    public func write<T: Encodable>(_ value: T, to file: URL) throws {
        try AtomicFile.write(JSONEncoder.prettySorted.encode(value), to: file)
    }
}

/// Writes state.json after a step when due: a save may cost at most `costShare` (2%) of the time since the last
/// one, so a small state (PEZ's prompt and moments) is saved after every step and a large one (RLPrompt's networks
/// and moments, 56 MB, half a second to write) every few steps. Whatever stops a run between steps flushes first,
/// so an interruption loses nothing; a crash loses at most the steps since the last save (seconds of work). The
/// state is only built (RLPrompt packs its floats) when it is written.
struct StateSaver {
    let directory: RunDirectory
    private var unsaved = false
    private var lastSave = ContinuousClock.now
    private var lastCost = Duration.zero
    let costShare: Double

    init(directory: RunDirectory, costShare: Double = 0.02) { self.directory = directory; self.costShare = costShare }

    mutating func stepFinished(_ state: @autoclosure () -> TuningState) throws {
        unsaved = true
        if ContinuousClock.now - lastSave >= lastCost / costShare { try flush(state()) }
    }

    mutating func flush(_ state: @autoclosure () -> TuningState) throws {
        guard unsaved else { return }
        let start = ContinuousClock.now
        try directory.write(state(), to: directory.state)
        lastSave = .now
        lastCost = lastSave - start
        unsaved = false
    }
}

extension JSONEncoder {
    public static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var prettySorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}
