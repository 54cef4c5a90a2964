// Reads a reference directory written by scripts/make_reference.py and checks a GPT-2 against it.
import Foundation
import Kernels
import Models
import TestSupport
import WeightFiles

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

struct GPT2Reference {
    let file: SafetensorsFile
    let ids: [[Int32]]
    let batch: RaggedBatch

    init(directory: URL) throws {
        file = try SafetensorsFile(path: directory.appendingPathComponent("reference.safetensors").path)
        let lengths = try file.floats("lengths").map { Int($0) }
        let flat = try file.floats("ids").map { Int32($0) }
        batch = RaggedBatch(lengths: lengths)
        ids = zip(batch.offsets, lengths).map { Array(flat[$0..<($0 + $1)]) }
    }

    func floats(_ name: String) throws -> [Float] { try file.floats(name) }
    func ints(_ name: String) throws -> [Int32] { try file.floats(name).map { Int32($0) } }
}

/// Mean cross-entropy over the head rows and its d(loss)/d(logits), as the reference script defines the loss.
func meanCrossEntropy(_ logits: Logits, targets: [Int32]) -> (loss: Float, dLogits: FloatBuffer) {
    let (R, V) = (logits.rows, logits.columns)
    let losses = FloatBuffer(count: R), probs = FloatBuffer(count: R * V), dLogits = FloatBuffer(count: R * V)
    let weights = FloatBuffer([Float](repeating: 1 / Float(R), count: R))
    targets.withUnsafeBufferPointer { t in
        crossEntropyForward(losses: losses.pointer, probs: probs.pointer, logits: logits.pointer, targets: t.baseAddress!, R: R, V: V)
        crossEntropyBackward(dlogits: dLogits.pointer, probs: probs.pointer, targets: t.baseAddress!, dlosses: weights.pointer, R: R, V: V)
    }
    return (losses.array.reduce(0, +) / Float(R), dLogits)
}

/// Differences between the model and the reference, for assertions and for the 124M report.
struct ParityReport: CustomStringConvertible {
    var entries: [(name: String, maxAbs: Double, relative: Double)] = []

    mutating func compare(_ name: String, _ ours: [Float], _ theirs: [Float]) {
        entries.append((name, maxAbsDifference(ours, theirs), relativeError(ours, theirs)))
    }

    var worstRelative: Double { entries.map(\.relative).max() ?? 0 }

    var description: String {
        entries.map { "\($0.name): max abs \(String(format: "%.3g", $0.maxAbs)), relative \(String(format: "%.3g", $0.relative))" }
            .joined(separator: "\n")
    }
}

/// Runs the reference batch through the model: full-vocabulary head everywhere, then the verbalizer-style
/// subset head on last tokens, with frozen and full backward.
func checkParity(_ model: DecoderModel, _ reference: GPT2Reference, weightGradients: Bool) throws -> ParityReport {
    var report = ParityReport()
    let batch = reference.batch, C = model.width
    let inputs = FloatBuffer(count: batch.tokenCount * C)
    try model.embed(reference.ids.flatMap { $0 }, into: inputs.pointer)

    let logits = try model.forward(inputs: inputs.pointer, batch: batch, head: .allTokens(of: batch))
    report.compare("logits", Array(UnsafeBufferPointer(start: logits.pointer, count: logits.rows * logits.columns)),
                   try reference.floats("logits"))
    let (loss, dLogits) = meanCrossEntropy(logits, targets: try reference.ints("targets"))
    report.compare("loss", [loss], try reference.floats("loss"))
    let mode: BackwardMode = weightGradients ? .full : .frozenWeights
    model.zeroGradients()
    let dInputs = try withExtendedLifetime(dLogits) { try model.backward(dLogits: dLogits.pointer, mode: mode) }
    report.compare("d_inputs", Array(UnsafeBufferPointer(start: dInputs, count: batch.tokenCount * C)),
                   try reference.floats("d_inputs"))
    if weightGradients, let gradients = model.gradients {
        for name in reference.file.entries.keys.sorted() where name.hasPrefix("grad.") {
            let entry = model.layout.entry(String(name.dropFirst(5)))
            report.compare(name, Array(gradients.buffer[entry.offset..<(entry.offset + entry.count)]), try reference.floats(name))
        }
    }

    let vocabulary = try reference.ints("subset.vocab")
    let subset = try model.forward(inputs: inputs.pointer, batch: batch, head: .lastTokens(of: batch, vocabulary: vocabulary))
    report.compare("subset.logits", Array(UnsafeBufferPointer(start: subset.pointer, count: subset.rows * subset.columns)),
                   try reference.floats("subset.logits"))
    let (subsetLoss, dSubset) = meanCrossEntropy(subset, targets: try reference.ints("subset.targets"))
    report.compare("subset.loss", [subsetLoss], try reference.floats("subset.loss"))
    let dSubsetInputs = try withExtendedLifetime(dSubset) { try model.backward(dLogits: dSubset.pointer, mode: .frozenWeights) }
    report.compare("subset.d_inputs", Array(UnsafeBufferPointer(start: dSubsetInputs, count: batch.tokenCount * C)),
                   try reference.floats("subset.d_inputs"))
    return report
}
