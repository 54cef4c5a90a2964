// GPT-2 against PyTorch + transformers on the same checkpoint and batch (fixtures from scripts/make_reference.py).
// Tolerance 1e-4 relative to the largest value of each tensor: float32 on both sides, different summation
// orders in GEMMs and reductions (~1e-6), our polynomial exp/tanh (~2e-7), compounded through the layers.
import Foundation
import Testing
import Models
import TestSupport

@Suite struct GPT2ParityTests {
    let tolerance = 1e-4
    let directory = fixtures.appendingPathComponent("gpt2-tiny")

    @Test func logitsLossAndGradientsMatchTransformers() throws {
        let model = try GPT2.load(directory: directory)
        let report = try checkParity(model, GPT2Reference(directory: directory), weightGradients: true)
        #expect(report.entries.count == 14)
        for entry in report.entries {
            #expect(entry.relative < tolerance, "\(entry.name): relative error \(entry.relative)")
        }
    }

    /// The same GEMMs produce the input gradient in both modes, but OpenBLAS's blocking, and so its summation
    /// order, depends on its thread count, which other tests running alongside change (attention runs its small
    /// GEMMs single-threaded). One thread against two differs by 5e-7 of the largest value; 1e-5 allows that
    /// rounding, never a missing term.
    @Test func frozenAndFullBackwardGiveTheSameInputGradient() throws {
        let model = try GPT2.load(directory: directory)
        let reference = try GPT2Reference(directory: directory)
        let targets = try reference.ints("targets")
        var results: [[Float]] = []
        for mode in [BackwardMode.frozenWeights, .full] {
            let logits = try model.forward(ids: reference.ids) { .allTokens(of: $0) }
            let dLogits = meanCrossEntropy(logits, targets: targets).dLogits
            let d = try withExtendedLifetime(dLogits) { try model.backward(dLogits: dLogits.pointer, mode: mode) }
            results.append(Array(UnsafeBufferPointer(start: d, count: reference.batch.tokenCount * model.width)))
        }
        #expect(relativeError(results[0], results[1]) < 1e-5)
        #expect(results[0].contains { $0 != 0 })
    }

    @Test func greedyGenerationMatchesTransformers() throws {
        let model = try GPT2.load(directory: directory)
        let reference = try GPT2Reference(directory: directory)
        let expected = try reference.ints("greedy.tokens")
        let tokens = try model.generate(prompt: reference.ints("greedy.prompt"), options: GenerationOptions(maxTokens: expected.count))
        #expect(tokens == expected)
    }

    /// The manual check at the real GPT-2 size: set LEGIBLE_GPT2_124M_REFERENCE to a directory written by
    /// `scripts/make_reference.py --full DIR` (about 600 MB, so not part of the fixtures).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LEGIBLE_GPT2_124M_REFERENCE"] != nil))
    func fullSizeRandomWeightsMatchTransformers() throws {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["LEGIBLE_GPT2_124M_REFERENCE"]!)
        let model = try GPT2.load(directory: directory)
        let report = try checkParity(model, GPT2Reference(directory: directory), weightGradients: false)
        print("GPT-2 124M random-weight parity:\n\(report)")
        #expect(report.worstRelative < tolerance)
    }
}
