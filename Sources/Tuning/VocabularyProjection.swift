// Nearest vocabulary tokens for prompt vectors (PEZ's projection, Wen et al. 2023): one GEMM of the prompt
// against the token embedding matrix, then an argmax per row with excluded ids never chosen.
// Dimensions: n prompt rows, V vocabulary, C channels.
import Foundation
import Kernels
import Models

public enum ProjectionMetric: String, Codable, Sendable, CaseIterable {
    case cosine  // PEZ's choice
    case l2
    case dot
}

public struct NearestToken: Sendable, Equatable {
    public var id: Int32
    /// Cosine similarity, negative squared distance, or dot product, by metric.
    public var score: Float
}

public final class VocabularyProjector {
    public let model: any CausalLM
    public let metric: ProjectionMetric
    /// allowed[v] is false for ids that must never be chosen.
    public let allowed: [Bool]
    private let squaredNorms: [Float]  // |E_v|² of the stored rows (V)
    private var scores = FloatBuffer(count: 0)

    public init(model: any CausalLM, metric: ProjectionMetric = .cosine, allowed: [Bool]) {
        precondition(allowed.count == model.vocabularySize, "one allowed flag per vocabulary id")
        precondition(allowed.contains(true), "every token is excluded")
        self.model = model; self.metric = metric; self.allowed = allowed
        let C = model.width, E = model.tokenEmbeddings
        squaredNorms = (0..<model.vocabularySize).map { dot(E + $0 * C, E + $0 * C, count: C) }
    }

    /// The best allowed token for each prompt row.
    public func nearest(_ prompt: PromptEmbeddings) -> [NearestToken] {
        neighbours(prompt, count: 1).map { $0[0] }
    }

    /// The `count` best allowed tokens for each prompt row, best first.
    public func neighbours(_ prompt: PromptEmbeddings, count k: Int) -> [[NearestToken]] {
        let (n, C, V) = (prompt.length, model.width, model.vocabularySize)
        guard n > 0 else { return [] }
        if scores.count < n * V { scores = FloatBuffer(count: n * V) }
        prompt.values.withUnsafeBufferPointer { p in
            // Raw products P·Eᵀ (n, V) against the stored rows; each metric rescales them below.
            sgemm(.none, .transposed, M: n, N: V, K: C, A: p.baseAddress!, lda: C, B: model.tokenEmbeddings, ldb: C,
                  beta: 0, C: scores.pointer, ldc: V)
        }
        let s = model.embeddingScale
        return (0..<n).map { i in
            let row = scores.pointer + i * V
            let promptNorm = prompt.values.withUnsafeBufferPointer { p in dot(p.baseAddress! + i * C, p.baseAddress! + i * C, count: C) }
            var best: [NearestToken] = []
            for v in 0..<V where allowed[v] {
                let score: Float
                switch metric {
                case .cosine: score = row[v] / max((promptNorm * squaredNorms[v]).squareRoot(), 1e-12)
                case .dot: score = s * row[v]
                case .l2: score = -(promptNorm - 2 * s * row[v] + s * s * squaredNorms[v])
                }
                if best.count < k || score > best[best.count - 1].score {
                    let candidate = NearestToken(id: Int32(v), score: score)
                    let index = best.firstIndex { score > $0.score } ?? best.count
                    best.insert(candidate, at: index)
                    if best.count > k { best.removeLast() }
                }
            }
            return best
        }
    }

    /// The input embeddings of token ids: what the model sees for a hard prompt.
    public func embeddings(of ids: [Int32]) throws -> PromptEmbeddings { try model.promptEmbeddings(of: ids) }

    /// Cosine similarity between each prompt row and the embedding of the given token.
    public func cosine(_ prompt: PromptEmbeddings, _ ids: [Int32]) -> [Float] {
        let C = model.width, E = model.tokenEmbeddings
        return ids.enumerated().map { i, id in
            prompt.values.withUnsafeBufferPointer { p in
                let row = p.baseAddress! + i * C
                let norms = (dot(row, row, count: C) * squaredNorms[Int(id)]).squareRoot()
                return dot(row, E + Int(id) * C, count: C) / max(norms, 1e-12)
            }
        }
    }
}
