// The checks the real-model parity suites share, against a reference.safetensors with the keys
// scripts/make_gemma_reference.py and scripts/make_qwen2_reference.py both write. Each suite states its tolerances.
import Foundation
import Testing
import Kernels
import Models
import TestSupport
import WeightFiles

struct RealModelReference {
    let file: SafetensorsFile

    init(_ relativePath: String) throws {
        file = try SafetensorsFile(path: fixtures.appendingPathComponent(relativePath).path)
    }

    func floats(_ name: String) throws -> [Float] { try file.floats(name) }
    /// Ids are stored as float32 (every id is below 2^24).
    func ints(_ name: String) throws -> [Int32] { try file.floats(name).map { Int32($0) } }

    /// Prompt i's last-position logits: the sampled ids, the reference's top 50 and the log-sum-exp within
    /// `tolerance`, and the `topInOrder` most likely ids in the reference's order.
    func checkLastPosition(_ model: any CausalLM, prompt i: Int, tolerance: Double, topInOrder: Int = 0) throws {
        let logits = try model.forward(ids: [try ints("prompt\(i).ids")]) { .lastTokens(of: $0) }
        let row = Array(logits.row(0))
        #expect(maxAbsDifference(try ints("sample_ids").map { row[Int($0)] }, try floats("prompt\(i).sample_logits")) < tolerance)
        let topIds = try ints("prompt\(i).top_ids")
        #expect(maxAbsDifference(topIds.map { row[Int($0)] }, try floats("prompt\(i).top_logits")) < tolerance)
        if topInOrder > 0 {
            let ours = row.indices.sorted { row[$0] > row[$1] }.prefix(topInOrder).map(Int32.init)
            #expect(Array(ours) == Array(topIds.prefix(topInOrder)))
        }
        let m = Double(row.max()!)
        let logSumExp = m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
        #expect(abs(logSumExp - Double(try floats("prompt\(i).logsumexp")[0])) < tolerance)
    }

    /// Logits at the sampled ids of the given rows of one sequence against `key` (rows × samples).
    func checkSampledLogits(_ model: any CausalLM, ids: [Int32], rows: [Int], key: String, tolerance: Double) throws {
        let logits = try model.forward(ids: [ids]) { _ in HeadRequest(rows: rows) }
        let sampleIds = try ints("sample_ids")
        let ours = rows.indices.flatMap { r in sampleIds.map { logits.row(r)[Int($0)] } }
        #expect(maxAbsDifference(ours, try floats(key)) < tolerance)
    }

    /// The input embeddings of `grad.ids` exactly; the full-vocabulary loss at the last position and the mean loss
    /// over five vocabulary rows at every position within `lossTolerance`, and their input gradients within
    /// `gradientTolerance` relative.
    func checkInputGradients(_ model: any CausalLM, lossTolerance: Float, gradientTolerance: Double) throws {
        let ids = try ints("grad.ids"), C = model.width
        let inputs = FloatBuffer(count: ids.count * C)
        try model.embed(ids, into: inputs.pointer)
        #expect(maxAbsDifference(inputs.array, try floats("grad.inputs_embeds")) == 0)
        let batch = RaggedBatch(lengths: [ids.count])
        let heads: [(HeadRequest, targets: String, loss: String, gradient: String)] = [
            (.lastTokens(of: batch), "grad.target", "grad.loss_full", "grad.d_inputs_full"),
            (.allTokens(of: batch, vocabulary: try ints("grad.subset_vocab")), "grad.subset_targets", "grad.loss_subset", "grad.d_inputs_subset"),
        ]
        for (head, targets, loss, gradient) in heads {
            let logits = try model.forward(inputs: inputs.pointer, batch: batch, head: head)
            let (value, dLogits) = meanCrossEntropy(logits, targets: try ints(targets))
            #expect(abs(value - (try floats(loss)[0])) < lossTolerance, "\(loss)")
            let dInputs = try withExtendedLifetime(dLogits) { try model.backward(dLogits: dLogits.pointer, mode: .frozenWeights) }
            #expect(relativeError(Array(UnsafeBufferPointer(start: dInputs, count: ids.count * C)), try floats(gradient)) < gradientTolerance, "\(gradient)")
        }
    }
}
