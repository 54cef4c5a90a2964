// Dequantization of ggml block formats to float32: F32, F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K.
// Block layouts follow ggml-common.h; arithmetic follows ggml-quants.c `dequantize_row_*` and gguf-py's
// quants.py operation for operation, so results match them bit for bit.

public enum GGUFDequantize {
    /// Turns whole blocks of `type` into `output.count` floats.
    /// `blocks` must hold exactly `output.count / type.blockSize` blocks; `tensor` names the data in errors.
    public static func dequantize(
        _ type: GGMLType, blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>,
        tensor: String = "<raw blocks>"
    ) throws(GGUFError) {
        guard GGMLType.dequantizable.contains(type) else {
            throw .unsupportedDequantization(tensor: tensor, type: type)
        }
        guard output.count % type.blockSize == 0 else {
            throw .rowNotMultipleOfBlock(tensor: tensor, type: type, rowLength: output.count, blockSize: type.blockSize)
        }
        // Checked: `output` is the caller's, and nothing says its count came from a real allocation.
        let (expectedBytes, overflow) = (output.count / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
        guard !overflow, blocks.count == expectedBytes else {
            throw .wrongByteCount(tensor: tensor, type: type, expected: overflow ? Int.max : expectedBytes, found: blocks.count)
        }
        guard let source = blocks.baseAddress, let destination = output.baseAddress, output.count > 0 else { return }
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        let blockCount = output.count / type.blockSize
        switch type {
        case .f32: UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: expectedBytes)
        case .f16: f16(bytes, destination, count: output.count)
        case .bf16: bf16(bytes, destination, count: output.count)
        case .q4_0: q4_0(bytes, destination, blockCount: blockCount)
        case .q5_0: q5_0(bytes, destination, blockCount: blockCount)
        case .q8_0: q8_0(bytes, destination, blockCount: blockCount)
        case .q4_K: q4_K(bytes, destination, blockCount: blockCount)
        case .q5_K: q5_K(bytes, destination, blockCount: blockCount)
        case .q6_K: q6_K(bytes, destination, blockCount: blockCount)
        case .q8_K: q8_K(bytes, destination, blockCount: blockCount)
        default: preconditionFailure("\(type.name) is listed as dequantizable but has no kernel")
        }
    }

    // MARK: Scalars

    /// IEEE half to float; exact for every input, including subnormals, infinities and NaN payloads.
    @inline(__always)
    static func float(half bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24  // exact: mantissa < 2^10
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    @inline(__always)
    static func half(_ p: UnsafePointer<UInt8>) -> Float {
        float(half: UInt16(p[0]) | UInt16(p[1]) << 8)
    }

    // MARK: Plain floats

    static func f16(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = half(source + 2 * i) }
    }

    static func bf16(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        // bfloat16 is the top half of a float32.
        for i in 0..<count {
            y[i] = Float(bitPattern: (UInt32(source[2 * i]) | UInt32(source[2 * i + 1]) << 8) << 16)
        }
    }

    // MARK: 32-element blocks

    /// block_q4_0 (18 bytes): d: f16, qs[16]: element j in the low nibble of qs[j], element j+16 in the high.
    static func q4_0(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, blockCount: Int) {
        for b in 0..<blockCount {
            let block = source + b * 18
            let d = half(block)
            let qs = block + 2
            let out = y + b * 32
            for j in 0..<16 {
                out[j] = Float(Int32(qs[j] & 0x0F) - 8) * d
                out[j + 16] = Float(Int32(qs[j] >> 4) - 8) * d
            }
        }
    }

    /// block_q5_0 (22 bytes): d: f16, qh: u32 with the fifth bit of element j at bit j, qs[16] as in Q4_0.
    static func q5_0(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, blockCount: Int) {
        for b in 0..<blockCount {
            let block = source + b * 22
            let d = half(block)
            let qh = UInt32(block[2]) | UInt32(block[3]) << 8 | UInt32(block[4]) << 16 | UInt32(block[5]) << 24
            let qs = block + 6
            let out = y + b * 32
            for j in 0..<16 {
                let high0 = Int32((qh >> UInt32(j)) & 1) << 4
                let high1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = Float((Int32(qs[j] & 0x0F) | high0) - 16) * d
                out[j + 16] = Float((Int32(qs[j] >> 4) | high1) - 16) * d
            }
        }
    }

    /// block_q8_0 (34 bytes): d: f16, qs[32]: int8.
    static func q8_0(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, blockCount: Int) {
        for b in 0..<blockCount {
            let block = source + b * 34
            let d = half(block)
            let out = y + b * 32
            for j in 0..<32 { out[j] = Float(Int8(bitPattern: block[2 + j])) * d }
        }
    }

    // MARK: 256-element super-blocks

    /// The 6-bit scale and min of sub-block `j` (0..<8) packed in the 12 bytes of Q4_K/Q5_K `scales`:
    /// bytes 0-3 hold scales 0-3 (low 6 bits), 4-7 mins 0-3; 8-11 hold the low 4 bits of scales/mins 4-7,
    /// whose top 2 bits ride in the top bits of bytes 0-7.
    @inline(__always)
    static func scaleAndMin(_ j: Int, _ scales: UnsafePointer<UInt8>) -> (scale: Float, min: Float) {
        if j < 4 {
            return (Float(scales[j] & 63), Float(scales[j + 4] & 63))
        }
        let scale = (scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4)
        let min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4)
        return (Float(scale), Float(min))
    }

    /// block_q4_K (144 bytes): d: f16, dmin: f16, scales[12], qs[128]. Eight sub-blocks of 32 elements;
    /// each 32 bytes of qs give one sub-block from the low nibbles and the next from the high nibbles.
    /// y = (d·scale)·q − (dmin·min).
    static func q4_K(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, blockCount: Int) {
        for b in 0..<blockCount {
            let block = source + b * 144
            let d = half(block)
            let dmin = half(block + 2)
            let scales = block + 4
            for pair in 0..<4 {
                let q = block + 16 + 32 * pair
                let out = y + b * 256 + 64 * pair
                let (scaleLow, minLow) = scaleAndMin(2 * pair, scales)
                let (scaleHigh, minHigh) = scaleAndMin(2 * pair + 1, scales)
                let dLow = d * scaleLow, mLow = dmin * minLow
                let dHigh = d * scaleHigh, mHigh = dmin * minHigh
                for l in 0..<32 { out[l] = dLow * Float(q[l] & 0x0F) - mLow }
                for l in 0..<32 { out[32 + l] = dHigh * Float(q[l] >> 4) - mHigh }
            }
        }
    }

    /// block_q5_K (176 bytes): d, dmin, scales[12] as in Q4_K, qh[32], qs[128]. Like Q4_K with a fifth bit:
    /// sub-block s takes bit s of qh[l].
    static func q5_K(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, blockCount: Int) {
        for b in 0..<blockCount {
            let block = source + b * 176
            let d = half(block)
            let dmin = half(block + 2)
            let scales = block + 4
            let qh = block + 16
            for pair in 0..<4 {
                let ql = block + 48 + 32 * pair
                let out = y + b * 256 + 64 * pair
                let (scaleLow, minLow) = scaleAndMin(2 * pair, scales)
                let (scaleHigh, minHigh) = scaleAndMin(2 * pair + 1, scales)
                let dLow = d * scaleLow, mLow = dmin * minLow
                let dHigh = d * scaleHigh, mHigh = dmin * minHigh
                let shiftLow = UInt8(2 * pair), shiftHigh = UInt8(2 * pair + 1)
                for l in 0..<32 {
                    let q = (ql[l] & 0x0F) | (((qh[l] >> shiftLow) & 1) << 4)
                    out[l] = dLow * Float(q) - mLow
                }
                for l in 0..<32 {
                    let q = (ql[l] >> 4) | (((qh[l] >> shiftHigh) & 1) << 4)
                    out[32 + l] = dHigh * Float(q) - mHigh
                }
            }
        }
    }

    /// block_q6_K (210 bytes): ql[128] low 4 bits, qh[64] high 2 bits, scales[16]: int8, d: f16.
    /// Each half (128 elements) uses 64 bytes of ql, 32 of qh and 8 scales; element groups of 32 take
    /// ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high nibbles with qh[l] bits 0-1, 2-3, 4-5, 6-7.
    /// y = (d·scale)·(q − 32), one scale per 16 elements.
    static func q6_K(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, blockCount: Int) {
        for b in 0..<blockCount {
            let block = source + b * 210
            let d = half(block + 208)
            for halfIndex in 0..<2 {
                let ql = block + 64 * halfIndex
                let qh = block + 128 + 32 * halfIndex
                let scales = block + 192 + 8 * halfIndex
                let out = y + b * 256 + 128 * halfIndex
                for group in 0..<4 {
                    let low = ql + (group & 1) * 32
                    let nibbleShift = UInt8((group >> 1) * 4)
                    let highShift = UInt8(group * 2)
                    for sixteen in 0..<2 {
                        let scale = d * Float(Int8(bitPattern: scales[2 * group + sixteen]))
                        for l in (16 * sixteen)..<(16 * sixteen + 16) {
                            let q = Int32(((low[l] >> nibbleShift) & 0x0F) | (((qh[l] >> highShift) & 3) << 4)) - 32
                            out[32 * group + l] = scale * Float(q)
                        }
                    }
                }
            }
        }
    }

    /// block_q8_K (292 bytes): d: f32, qs[256]: int8, bsums[16]: int16 (only used by dot products).
    static func q8_K(_ source: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, blockCount: Int) {
        for b in 0..<blockCount {
            let block = source + b * 292
            let d = Float(bitPattern: UInt32(block[0]) | UInt32(block[1]) << 8 | UInt32(block[2]) << 16
                | UInt32(block[3]) << 24)
            let out = y + b * 256
            for j in 0..<256 { out[j] = d * Float(Int8(bitPattern: block[4 + j])) }
        }
    }
}

extension GGUFFile {
    /// Dequantizes a whole tensor of this file into `output`, which must hold `tensor.elementCount` floats.
    public func dequantize(_ tensor: GGUFTensorInfo, into output: UnsafeMutableBufferPointer<Float>) throws(GGUFError) {
        guard output.count == tensor.elementCount else {
            throw .wrongElementCount(tensor: tensor.name, expected: tensor.elementCount, found: output.count)
        }
        try dequantizeRows(tensor, rows: 0..<tensor.rowCount, into: output)
    }

    /// Dequantizes a whole tensor into a new array (ggml order: row after row of `rowLength` floats).
    public func dequantize(_ tensor: GGUFTensorInfo) throws(GGUFError) -> [Float] {
        try dequantizeRows(tensor, rows: 0..<tensor.rowCount)
    }

    /// Dequantizes rows `rows` (each `tensor.rowLength` floats) into `output`, which must hold exactly
    /// `rows.count * tensor.rowLength` floats. Lets a caller read a huge embedding table row by row.
    public func dequantizeRows(
        _ tensor: GGUFTensorInfo, rows: Range<Int>, into output: UnsafeMutableBufferPointer<Float>
    ) throws(GGUFError) {
        guard rows.lowerBound >= 0, rows.upperBound <= tensor.rowCount else {
            throw .rowsOutOfRange(tensor: tensor.name, rows: rows, rowCount: tensor.rowCount)
        }
        guard tensor.rowLength % tensor.type.blockSize == 0 else {
            throw .rowNotMultipleOfBlock(tensor: tensor.name, type: tensor.type, rowLength: tensor.rowLength,
                                         blockSize: tensor.type.blockSize)
        }
        let expected = rows.count * tensor.rowLength
        guard output.count == expected else {
            throw .wrongElementCount(tensor: tensor.name, expected: expected, found: output.count)
        }
        // Within the tensor's own rows, these products are at most its byte count, which the reader checked.
        let bytes = data(of: tensor)
        let start = rows.lowerBound * tensor.bytesPerRow
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + rows.count * tensor.bytesPerRow)])
        try GGUFDequantize.dequantize(tensor.type, blocks: slice, into: output, tensor: tensor.name)
    }

    /// Dequantizes rows `rows` into a new array.
    public func dequantizeRows(_ tensor: GGUFTensorInfo, rows: Range<Int>) throws(GGUFError) -> [Float] {
        guard rows.lowerBound >= 0, rows.upperBound <= tensor.rowCount else {
            throw .rowsOutOfRange(tensor: tensor.name, rows: rows, rowCount: tensor.rowCount)
        }
        var result = [Float](repeating: 0, count: rows.count * tensor.rowLength)
        var failure: GGUFError?
        result.withUnsafeMutableBufferPointer { buffer in
            do throws(GGUFError) { try dequantizeRows(tensor, rows: rows, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}
