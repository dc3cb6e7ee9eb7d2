// The physics mesh the original page builds from its GLB (index.html, loadModel): every
// mesh primitive's raw vertex positions, in scene order, and its indices offset by the
// vertices before it. Node transforms are not applied, exactly as there.

import { readFile } from 'node:fs/promises';

const COMPONENTS = { 5126: Float32Array, 5125: Uint32Array, 5123: Uint16Array, 5121: Uint8Array };
const WIDTH = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4 };

function parse(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== 0x46546c67) throw new Error('not a binary glTF (GLB) file');
  let offset = 12;
  let json = null;
  let bin = null;
  while (offset < bytes.byteLength) {
    const length = view.getUint32(offset, true);
    const type = view.getUint32(offset + 4, true);
    const chunk = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 0x4e4f534a) json = JSON.parse(new TextDecoder().decode(chunk));
    else if (type === 0x004e4942) bin = chunk;
    offset += 8 + length;
  }
  if (!json || !bin) throw new Error('the GLB has no JSON or no binary chunk');
  return { json, bin };
}

function accessor({ json, bin }, index) {
  const a = json.accessors[index];
  const view = json.bufferViews[a.bufferView];
  const Type = COMPONENTS[a.componentType];
  const start = bin.byteOffset + (view.byteOffset ?? 0) + (a.byteOffset ?? 0);
  const n = a.count * WIDTH[a.type];
  if (view.byteStride && view.byteStride !== WIDTH[a.type] * Type.BYTES_PER_ELEMENT) {
    throw new Error('interleaved glTF buffers are not supported');
  }
  return new Type(bin.buffer.slice(start, start + n * Type.BYTES_PER_ELEMENT));
}

/** { vertices: number[], indices: number[] } as the page passes them to setMeshShape. */
export async function pageMesh(glbPath) {
  let bytes;
  try {
    bytes = await readFile(glbPath);
  } catch (e) {
    throw new Error(`cannot read ${glbPath}: ${e.message}`);
  }
  const gltf = parse(bytes);
  const vertices = [];
  const indices = [];
  const visit = (nodeIndex) => {
    const node = gltf.json.nodes[nodeIndex];
    if (node.mesh !== undefined) {
      for (const prim of gltf.json.meshes[node.mesh].primitives) {
        const offset = vertices.length / 3;
        const pos = accessor(gltf, prim.attributes.POSITION);
        vertices.push(...pos);
        if (prim.indices !== undefined) for (const i of accessor(gltf, prim.indices)) indices.push(i + offset);
        else for (let i = 0; i < pos.length / 3; i++) indices.push(i + offset);
      }
    }
    for (const child of node.children ?? []) visit(child);
  };
  const scene = gltf.json.scenes[gltf.json.scene ?? 0];
  for (const n of scene.nodes) visit(n);
  return { vertices, indices };
}
