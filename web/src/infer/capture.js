// Pixels -> the pose model's input tensor (the browser contract): float32 [1, 3, R, R],
// RGB planes (NCHW), each value v/255 then normalized with ImageNet mean/std, row 0 at
// the top of the image (as the training renders store it). WebGL's readPixels returns
// rows bottom-up, so `bottomUp` flips them. Pure: runs in the page and in Node tests.

/**
 * @param rgba     Uint8Array or Uint8ClampedArray, width*height*4
 * @param size     image width = height (camera.resolution)
 * @param mean     [3] ImageNet mean (task.onnx.image_mean)
 * @param std      [3] ImageNet std (task.onnx.image_std)
 * @param bottomUp true when row 0 of `rgba` is the bottom row (WebGL readPixels)
 * @param out      optional Float32Array(3*size*size) to fill
 */
export function rgbaToNchw(rgba, size, mean, std, bottomUp, out = new Float32Array(3 * size * size)) {
  const plane = size * size;
  if (rgba.length !== plane * 4) throw new Error(`expected ${size}x${size} RGBA pixels (${plane * 4} bytes), got ${rgba.length}`);
  const scale = [1 / (255 * std[0]), 1 / (255 * std[1]), 1 / (255 * std[2])];
  const shift = [mean[0] / std[0], mean[1] / std[1], mean[2] / std[2]];
  for (let row = 0; row < size; row++) {
    const src = (bottomUp ? size - 1 - row : row) * size * 4;
    const dst = row * size;
    for (let col = 0; col < size; col++) {
      const i = src + col * 4;
      const j = dst + col;
      out[j] = rgba[i] * scale[0] - shift[0];
      out[plane + j] = rgba[i + 1] * scale[1] - shift[1];
      out[2 * plane + j] = rgba[i + 2] * scale[2] - shift[2];
    }
  }
  return out;
}
