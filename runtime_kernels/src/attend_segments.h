// Online-softmax attention of one kv head's query group over runs of cache slots: the stage both
// attention ops end in (InfLLM-v2's selected blocks, cached_attention's visible slots).
//
// Segments are read in order, each in one qk call and one p.V call, with a running max and
// normaliser per head (flash-attention style), so memory stays one segment of scores per head and
// the cost follows the number of slots read, not the cache size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "attn_kernels.h"

namespace edgecpm {

struct Segment {
  int64_t start;  // first slot
  int len;        // slots start .. start + len - 1; 1 <= len <= the max_len passed below
  // Set for a gathered segment: its len K and V rows, contiguous, read instead of the cache's.
  const float* k_rows = nullptr;
  const float* v_rows = nullptr;
};

// Segments over slots read in order (slots[i] holds the i-th position the row reads), cut into
// chunks of lens[0], lens[1], ... positions, as a plain step reading those positions at slots =
// positions cuts them. A chunk whose slots are not consecutive is gathered (its K/V rows copied
// into gathered_k/v from the kv head at k/v), so the arithmetic, and the result, is the plain
// step's to the bit whatever slots the positions occupy (a speculative tree's path).
void gathered_segments(const int64_t* slots, const std::vector<int>& lens, const float* k, const float* v, int D,
                       std::vector<Segment>& segs, std::vector<float>& gathered_k, std::vector<float>& gathered_v);

struct AttendScratch {
  std::vector<float> scores, acc, m, l;
};

// qg: the group's G query rows [G, D], already scaled or not (scale multiplies every score);
// k/v: the kv head's cache rows [S, D]. Head h's result goes to out + h * out_stride.
void attend_segments(const AttnKernels& ak, const float* qg, int G, int D, const float* k, const float* v,
                     const Segment* segs, size_t nseg, int max_len, float scale, AttendScratch& sc,
                     float* out, int64_t out_stride);

}  // namespace edgecpm
