// FluentPrompt's projected Langevin dynamics (Shi et al. 2022, after MuCoLa, Kumar et al. 2022): Gaussian noise
// on the continuous prompt after each optimizer step, at a temperature β that decays geometrically over the run.
//
// FluentPrompt writes the update as ẽ ← Proj_E(ẽ − η∇E(ẽ) + √(2ηβ)·z), z ~ N(0, I). Here the iterate P stays
// continuous and the projection happens in the next step's forward, as PEZ does it: step t takes the gradient
// at P′_t = Proj(P_t), sets P_(t+1) = AdamW(P_t, gradient) + √(2ηβ_t)·z, and the tokens step t hands out (its
// dev evaluation) and step t+1 trains on are Proj(P_(t+1)): the noisy P is what gets projected. Replacing P by
// its projection after each step instead would undo every move shorter than half the way to another token, and
// PEZ would no longer be PEZ. Two differences from the paper remain: the step is AdamW's rather than η∇, and
// with --method soft nothing is projected, so the noise makes plain Langevin dynamics on P.
import Foundation
import Kernels

extension TuningConfiguration {
    /// β at the last step (FluentPrompt's final temperature), unless `langevinTemperature` is already lower.
    public static let finalLangevinTemperature: Float = 1e-4

    /// β_t for step t = 0 … steps − 1: β_t = β₀ · (β_end / β₀)^(t / (steps − 1)), with β₀ = langevinTemperature and
    /// β_end = min(1e-4, β₀) (a β₀ below 1e-4 stays constant rather than grows). One step gets β₀; steps past the
    /// last keep β_end; β₀ = 0 gives 0 throughout. The schedule spans `steps`, so resuming with a larger --steps
    /// stretches what remains of it.
    public func langevinTemperature(atStep t: Int) -> Float {
        let start = langevinTemperature
        guard start > 0, steps > 1 else { return start }
        let end = min(Self.finalLangevinTemperature, start)
        let fraction = Double(min(max(t, 0), steps - 1)) / Double(steps - 1)
        return Float(Double(start) * pow(Double(end) / Double(start), fraction))
    }
}

/// Adds √(2 · learningRate · temperature) · z to every coordinate of the prompt, z ~ N(0, 1) from `seed`.
func addLangevinNoise(to prompt: inout [Float], learningRate: Float, temperature: Float, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    let scale = (2 * learningRate * temperature).squareRoot()
    for i in prompt.indices { prompt[i] += scale * rng.nextNormal() }
}
