// The tied LM head applied only where asked: chosen rows of the final residual stream, and optionally only
// chosen vocabulary rows of the embedding matrix. Shared by every architecture; the final norm between the
// gathered rows and the head is the model's own. Dimensions: R head rows, S vocabulary columns, C channels.
import Kernels

struct SelectiveHead {
    var input = GrowableBuffer()       // (R, C) gathered residual rows
    var normed = GrowableBuffer()      // (R, C) after the final norm
    var statistics = GrowableBuffer()  // (2R) the final norm's saved statistics
    var subset = GrowableBuffer()      // (S, C) gathered embedding rows, when a vocabulary subset is asked for
    var logits = GrowableBuffer()      // (R, S)
    var dNormed = GrowableBuffer(), dInput = GrowableBuffer(), dSubset = GrowableBuffer()

    mutating func reserve(rows R: Int, columns S: Int, width C: Int, isSubset: Bool) {
        input.reserve(R * C); normed.reserve(R * C); statistics.reserve(2 * R)
        if isSubset { subset.reserve(S * C) }
        logits.reserve(R * S)
    }

    /// Copies the requested rows of the residual stream (N, C) into `input`.
    func gather(rows: [Int], from residual: UnsafePointer<Float>, C: Int) {
        for (r, row) in rows.enumerated() { (input.pointer + r * C).update(from: residual + row * C, count: C) }
    }

    /// logits (R, S) = normed · Eᵀ over the requested vocabulary rows of `embedding` (V, C).
    func forward(embedding: UnsafePointer<Float>, vocabulary: [Int32]?, R: Int, C: Int, V: Int, products: FrozenProducts) -> Logits {
        let matrix = matrix(embedding: embedding, vocabulary: vocabulary, C: C)
        let S = vocabulary?.count ?? V
        products.linearForward(out: logits.pointer, inp: normed.pointer, weight: matrix, bias: nil, layout: .outputMajor, N: R, I: C, O: S)
        return Logits(pointer: logits.pointer, rows: R, columns: S)
    }

    private func matrix(embedding: UnsafePointer<Float>, vocabulary: [Int32]?, C: Int) -> UnsafePointer<Float> {
        guard let vocabulary else { return embedding }
        for (j, id) in vocabulary.enumerated() { (subset.pointer + j * C).update(from: embedding + Int(id) * C, count: C) }
        return UnsafePointer(subset.pointer)
    }

    /// d(normed) (R, C) from d(logits); with `dEmbedding`, also accumulates the head's weight gradient into it.
    mutating func backward(dLogits: UnsafePointer<Float>, embedding: UnsafePointer<Float>, dEmbedding: UnsafeMutablePointer<Float>?,
                           vocabulary: [Int32]?, R: Int, C: Int, V: Int, products: FrozenProducts) -> UnsafeMutablePointer<Float> {
        let S = vocabulary?.count ?? V
        let d = dNormed.zeroed(R * C)
        let matrix = vocabulary == nil ? embedding : UnsafePointer(subset.pointer)
        let dMatrix = dEmbedding == nil ? nil : vocabulary == nil ? dEmbedding : dSubset.zeroed(S * C)
        products.linearBackward(dinp: d, dweight: dMatrix, dbias: nil, dout: dLogits, inp: normed.pointer, weight: matrix,
                       layout: .outputMajor, N: R, I: C, O: S)
        if let dEmbedding, let vocabulary {
            for (j, id) in vocabulary.enumerated() { addInPlace(dEmbedding + Int(id) * C, dSubset.pointer + j * C, count: C) }
        }
        return d
    }

    /// Adds d(input) (R, C) into the residual gradient (N, C) at the requested rows (a row asked twice adds twice).
    func scatter(rows: [Int], into dResidual: UnsafeMutablePointer<Float>, C: Int) {
        for (r, row) in rows.enumerated() { addInPlace(dResidual + row * C, dInput.pointer + r * C, count: C) }
    }
}

/// Checks shared by every architecture before a forward pass.
func validate(batch: RaggedBatch, head: HeadRequest, vocabularySize: Int, context: Int?) throws {
    guard batch.tokenCount > 0 else { throw ModelError.emptyBatch }
    if let context, batch.maxLength > context {
        throw ModelError.sequenceTooLong(length: batch.maxLength, limit: context)
    }
    for row in head.rows where row < 0 || row >= batch.tokenCount {
        throw ModelError.headRowOutOfRange(row: row, tokenCount: batch.tokenCount)
    }
    for id in head.vocabulary ?? [] where id < 0 || Int(id) >= vocabularySize {
        throw ModelError.tokenOutOfRange(id: id, vocabularySize: vocabularySize)
    }
}
