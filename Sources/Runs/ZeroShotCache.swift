// Zero-shot scores kept across runs. The empty and manual prompts' label scores depend only on the model and on
// the test examples as encoded with that text typed into the template — which fixes the task's data, split,
// template, test rows and tokenizer — the label words' tokens and the precision of the model's products. So the key
// is a digest of exactly those token ids (and, for bfloat16, a tag), and a folder per model checksum holds one small JSON file per key: a later `tune`, `eval` or sweep shard on
// the same model and test rows reads two of an evaluation's five passes instead of running them.
import Foundation
import Kernels
import Tuning
import WeightFiles

public final class ZeroShotCache {
    private var scores: [String: [[Float]]] = [:]
    /// Where scores are also kept for later processes (nil: this process only).
    public let directory: URL?

    public init(directory: URL? = nil) { self.directory = directory }

    /// The folder for one model's weights in the user's cache: `$LEGIBLE_CACHE_DIR`, else `$XDG_CACHE_HOME/legible`,
    /// else `~/.cache/legible`, then `zero-shot/<sha256 of the weights>`.
    public static func userCache(modelSHA256: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> ZeroShotCache {
        let root = environment["LEGIBLE_CACHE_DIR"].map { URL(fileURLWithPath: $0) }
            ?? environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0).appendingPathComponent("legible") }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/legible")
        return ZeroShotCache(directory: root.appendingPathComponent("zero-shot").appendingPathComponent(modelSHA256))
    }

    /// Score sets held in memory: one per distinct set of examples and label words seen.
    public var count: Int { scores.count }

    /// The scores of `examples` (one row per example, one column per class) under `verbalizer`, from memory, then
    /// from the folder, else computed and kept in both. A file that cannot be read or written costs only time.
    func scores(examples: [EncodedExample], verbalizer: Verbalizer, precision: Precision,
                compute: () throws -> [[Float]]) throws -> [[Float]] {
        let key = Self.key(examples: examples, verbalizer: verbalizer, precision: precision)
        if let known = scores[key] { return known }
        let file = directory?.appendingPathComponent(key + ".json")
        if let file, let data = try? Data(contentsOf: file), let stored = try? JSONDecoder().decode(Stored.self, from: data),
           stored.fits(examples: examples.count, classes: verbalizer.classCount) {
            scores[key] = stored.scores
            return stored.scores
        }
        let computed = try compute()
        scores[key] = computed
        if let file, let directory, let data = try? JSONEncoder().encode(Stored(scores: computed)) {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? AtomicFile.write(data, to: file)
        }
        return computed
    }

    /// sha256 of the label words' tokens and every example's prefix and suffix ids, each list prefixed by its
    /// length, behind a version tag that changes if the scores' meaning ever does. Scores of bfloat16 products are
    /// other scores: a tag after the version keeps them apart (float32 keys are as they always were).
    static func key(examples: [EncodedExample], verbalizer: Verbalizer, precision: Precision = .fp32) -> String {
        var words: [Int32] = [1]  // version of what the scores mean
        if precision == .bf16 { words.append(-16) }
        func append(_ list: [Int32]) { words.append(Int32(list.count)); words += list }
        words.append(Int32(verbalizer.tokens.count))
        verbalizer.tokens.forEach(append)
        words.append(Int32(examples.count))
        for example in examples { append(example.prefix); append(example.suffix) }
        return words.withUnsafeBytes { SHA256.hexDigest(of: $0) }
    }

    /// A file's contents: float32 values round-trip exactly through JSON's shortest decimal form.
    struct Stored: Codable {
        var scores: [[Float]]

        func fits(examples: Int, classes: Int) -> Bool {
            scores.count == examples && scores.allSatisfy { $0.count == classes && $0.allSatisfy(\.isFinite) }
        }
    }
}
