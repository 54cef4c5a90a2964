// Soft Q-learning with sparse rewards for prompt generation, as RLPrompt trains its policy (Deng et al. 2022,
// after Guo et al. 2022's "efficient soft Q-learning for text generation"). The policy's logits are read as
// Q(s, a); V(s) = log Σₐ exp Q(s, a) and A = Q(s, a) − V(s) = log π(a|s). With a target network's V′ and the
// episode's reward R at its last step, two path-consistency losses, averaged:
//   single-step: (A_t − A′_t)², A′_t = V′_{t+1} − V′_t before the last step, R − V′_t at it;
//   multi-step:  (Σ_{u≥t} A_u − (R − V′_t))².
// The loss sums over steps and averages over episodes (RLPrompt's "v2_v3" with the reversed terms off).
// Dimensions: L steps, S episodes, rows ordered (t, s): row t·S + s; W columns (the vocabulary, or a
// row's candidate tokens).
import Kernels

public struct SoftQLossResult: Sendable, Equatable {
    public var loss: Float
    /// Means over every step of every episode, for the log.
    public var meanQ: Float
    public var meanV: Float
    public var meanA: Float
}

/// Path-consistency loss of `online` logits (L·S, W) against `target` logits, for the chosen columns `actions`
/// (L·S) and per-episode rewards (S). Masked-out choices carry −∞ logits. Writes d(loss)/d(online) into
/// `gradient` (L·S, W) and returns the loss. `target` is used as scratch (its rows become probabilities).
public func softQLearningLoss(online: UnsafePointer<Float>, target: UnsafeMutablePointer<Float>, actions: [Int],
                              rewards: [Float], steps L: Int, columns W: Int,
                              gradient: UnsafeMutablePointer<Float>) -> SoftQLossResult {
    let S = rewards.count, rows = L * S
    precondition(actions.count == rows, "one action per step of each episode")
    var q = [Double](repeating: 0, count: rows), v = q, vTarget = q
    for r in 0..<rows {
        let row = gradient + r * W
        row.update(from: online + r * W, count: W)
        q[r] = Double(online[r * W + actions[r]])
        v[r] = softmaxRow(row, count: W)  // the gradient buffer now holds π(·|s)
        vTarget[r] = softmaxRow(target + r * W, count: W)
    }
    let a = zip(q, v).map { $0 - $1 }
    var loss = 0.0
    var dA = [Double](repeating: 0, count: rows)
    for s in 0..<S {
        let R = Double(rewards[s])
        // Σ_{u≥t} A_u, built from the last step back.
        var tail = [Double](repeating: 0, count: L)
        var sum = 0.0
        for t in stride(from: L - 1, through: 0, by: -1) { sum += a[t * S + s]; tail[t] = sum }
        var multiStepResiduals = 0.0  // Σ_{u≤t} (tail_u − (R − V′_u)): every tail through step t holds A_t
        for t in 0..<L {
            let r = t * S + s
            let singleTarget = t == L - 1 ? R - vTarget[r] : vTarget[r + S] - vTarget[r]
            let single = a[r] - singleTarget
            let multi = tail[t] - (R - vTarget[r])
            loss += (single * single + multi * multi) / 2
            multiStepResiduals += multi
            // d/dA_t: single_t, plus multi_u for every u ≤ t (their tails hold A_t); averaged over episodes.
            dA[r] = (single + multiStepResiduals) / Double(S)
        }
    }
    // dQ(s, ·) = dA · (onehot(action) − π(·|s)).
    for r in 0..<rows {
        let row = gradient + r * W, d = Float(dA[r])
        for j in 0..<W { row[j] *= -d }
        row[actions[r]] += d
    }
    let n = Double(rows)
    return SoftQLossResult(loss: Float(loss / Double(S)), meanQ: Float(q.reduce(0, +) / n),
                           meanV: Float(v.reduce(0, +) / n), meanA: Float(a.reduce(0, +) / n))
}
