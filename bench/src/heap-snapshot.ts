/**
 * Reading V8 `.heapsnapshot` files far enough to tell what one snapshot holds that an earlier one
 * of the same process did not: objects are matched by their snapshot id (stable within a
 * process), grouped by constructor, and for a few of each group the shortest path from the GC
 * roots is given, which names what keeps them.
 */

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapSnapshot {
  /** Node count. */
  size: number;
  id(node: number): number;
  type(node: number): string;
  name(node: number): string;
  selfSize(node: number): number;
  /** `type` with the constructor or string name, e.g. `object Map`, `closure offer`, `string`. */
  label(node: number): string;
  /** Shortest path from the GC roots to `node` over strong edges, as `Holder.edge` steps. */
  retainerPath(node: number): string[];
}

export function parseHeapSnapshot(text: string): HeapSnapshot {
  const raw = JSON.parse(text) as RawSnapshot;
  const meta = raw.snapshot.meta;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const [nType, nName, nId, nSize, nEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number, number];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = raw;
  const size = nodes.length / nodeFields;
  const firstEdge = new Uint32Array(size + 1);
  for (let n = 0; n < size; n++) firstEdge[n + 1] = firstEdge[n]! + nodes[n * nodeFields + nEdges]!;

  const type = (n: number) => nodeTypes[nodes[n * nodeFields + nType]!]!;
  const name = (n: number) => strings[nodes[n * nodeFields + nName]!]!;
  const edgeName = (e: number) => {
    const t = edgeTypes[edges[e * edgeFields + eType]!];
    const v = edges[e * edgeFields + eName]!;
    return t === 'element' || t === 'hidden' ? `[${v}]` : strings[v]!;
  };
  const label = (n: number) => {
    const t = type(n);
    if (t === 'string' || t === 'concatenated string' || t === 'sliced string' || t === 'number') return t;
    return `${t} ${name(n).slice(0, 80)}`;
  };

  // Breadth first from the root over every edge but weak ones: the first way found to a node is
  // a shortest one, and what it passes through is what keeps the node alive.
  let parents: { node: Int32Array; edge: Int32Array } | undefined;
  const bfs = () => {
    const node = new Int32Array(size).fill(-1);
    const edge = new Int32Array(size).fill(-1);
    const queue = new Int32Array(size);
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    node[0] = 0;
    while (head < tail) {
      const from = queue[head++]!;
      for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e++) {
        if (edgeTypes[edges[e * edgeFields + eType]!] === 'weak') continue;
        const to = edges[e * edgeFields + eTo]! / nodeFields;
        if (node[to] !== -1) continue;
        node[to] = from;
        edge[to] = e;
        queue[tail++] = to;
      }
    }
    return { node, edge };
  };

  return {
    size,
    id: (n) => nodes[n * nodeFields + nId]!,
    type,
    name,
    selfSize: (n) => nodes[n * nodeFields + nSize]!,
    label,
    retainerPath(target) {
      parents ??= bfs();
      const steps: string[] = [];
      for (let n = target; n > 0 && steps.length < 40; n = parents.node[n]!) {
        if (parents.node[n] === -1) return ['(only weakly reachable)', ...steps];
        const holder = parents.node[n]!;
        steps.unshift(`${label(holder)} .${edgeName(parents.edge[n]!)}`);
      }
      return steps;
    },
  };
}

export interface GrowthGroup {
  label: string;
  count: number;
  bytes: number;
  /** The largest few nodes of `after` in this group, for retainer paths. */
  samples: number[];
}

/** Objects in `after` that `before` did not have, grouped by label, most bytes first. */
export function newObjects(before: HeapSnapshot, after: HeapSnapshot, samplesPerGroup = 3): GrowthGroup[] {
  const seen = new Set<number>();
  for (let n = 0; n < before.size; n++) seen.add(before.id(n));
  const groups = new Map<string, GrowthGroup>();
  for (let n = 0; n < after.size; n++) {
    if (seen.has(after.id(n))) continue;
    const t = after.type(n);
    // Embedder (`native`) nodes get fresh ids in every snapshot; synthetic ones are groupings.
    if (t === 'synthetic' || t === 'native') continue;
    const label = after.label(n);
    let group = groups.get(label);
    if (!group) groups.set(label, (group = { label, count: 0, bytes: 0, samples: [] }));
    group.count++;
    group.bytes += after.selfSize(n);
    // The largest few: in a group of many alike they are as good as any, and in a mixed one they
    // are what counts.
    group.samples.push(n);
    if (group.samples.length > samplesPerGroup) {
      group.samples.sort((a, b) => after.selfSize(b) - after.selfSize(a));
      group.samples.pop();
    }
  }
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Self size by node type (`object`, `code`, `string`…), in bytes: where the heap's bytes are. */
export function bytesByType(snapshot: HeapSnapshot): Map<string, number> {
  const totals = new Map<string, number>();
  for (let n = 0; n < snapshot.size; n++) totals.set(snapshot.type(n), (totals.get(snapshot.type(n)) ?? 0) + snapshot.selfSize(n));
  return totals;
}
