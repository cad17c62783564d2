// FlatTable<Record>: an open-addressing hash table of fixed-size records keyed by a 64-bit hash
// that is never 0 (0 marks an empty slot). Linear probing, power-of-two capacity, grows by
// rehashing to double capacity when an insert would pass 70% load. Records live inline in one
// contiguous array, so a lookup touches the record's own cache lines and nothing else.
// Owned by one FeatureEngine; not thread-safe (one shard thread uses it). References returned
// by find/find_or_insert are invalidated by the next insert that grows the table.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

namespace fw {

// REQUIRES of Record: a default-constructed Record has key == 0; `uint64_t key` is a member;
// trivially copyable and destructible (records are moved by copy on rehash, freed unvisited).
template <typename Record>
class FlatTable {
  static_assert(std::is_trivially_copyable_v<Record> && std::is_trivially_destructible_v<Record>);

 public:
  // Capacity is the next power of two holding `expected` records below the load limit.
  explicit FlatTable(size_t expected) {
    size_t cap = 16;
    while (cap * kMaxLoadNum < expected * kMaxLoadDen) cap *= 2;
    allocate(cap);
  }

  // The record for key, or nullptr. REQUIRES: key != 0.
  Record* find(uint64_t key) {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      Record& r = slots_[i];
      if (r.key == key) return &r;
      if (r.key == 0) return nullptr;
    }
  }

  // The record for key; a fresh default record with r.key = key if absent (sets `inserted`).
  // REQUIRES: key != 0.
  Record& find_or_insert(uint64_t key, bool& inserted) {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      Record& r = slots_[i];
      if (r.key == key) {
        inserted = false;
        return r;
      }
      if (r.key == 0) {
        if ((size_ + 1) * kMaxLoadDen > capacity_ * kMaxLoadNum) {
          grow();
          return find_or_insert(key, inserted);
        }
        r.key = key;
        ++size_;
        inserted = true;
        return r;
      }
    }
  }

  // Hints the CPU to load the first `lines` cache lines of key's home slot. Purely a hint:
  // probing may land elsewhere, which costs only the miss the hint meant to hide.
  void prefetch(uint64_t key, int lines) const {
    const char* p = reinterpret_cast<const char*>(&slots_[home(key)]);
    for (int l = 0; l < lines; ++l) __builtin_prefetch(p + 64 * l, 1, 3);
  }

  // The slot where key's probe starts (for prefetching parts of a record). REQUIRES: key != 0.
  const Record* home_slot(uint64_t key) const { return &slots_[home(key)]; }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t memory_bytes() const { return capacity_ * sizeof(Record); }

  // Calls f(record) for every stored record, in slot order.
  template <typename F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].key != 0) f(slots_[i]);
    }
  }

  // Stores a copy of r under r.key, replacing any record with that key. REQUIRES: r.key != 0.
  void insert_or_assign(const Record& r) {
    bool inserted = false;
    find_or_insert(r.key, inserted) = r;
  }

  // Removes every record for which pred(record) is true; returns how many. One pass over the
  // table plus one re-placement pass (no second array), so it suits bulk removal (evicting a
  // partition), not one key at a time. Invalidates references into the table.
  template <typename Pred>
  size_t erase_if(Pred&& pred) {
    // A slot that was empty before anything is removed: no record's probe sequence crosses it,
    // so walking the table circularly from there, each record can be re-placed at the first
    // free slot from its home without disturbing the records already walked.
    size_t start = 0;
    while (slots_[start].key != 0) ++start;  // exists: load is at most 70%
    size_t removed = 0;
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].key != 0 && pred(static_cast<const Record&>(slots_[i]))) {
        slots_[i] = Record{};
        ++removed;
      }
    }
    if (removed == 0) return 0;
    size_ -= removed;
    for (size_t n = 1; n < capacity_; ++n) {
      const size_t p = (start + n) & mask_;
      if (slots_[p].key == 0) continue;
      for (size_t i = home(slots_[p].key); i != p; i = (i + 1) & mask_) {
        if (slots_[i].key == 0) {
          slots_[i] = slots_[p];
          slots_[p] = Record{};
          break;
        }
      }
    }
    return removed;
  }

 private:
  // Max load 7/10.
  static constexpr size_t kMaxLoadNum = 7;
  static constexpr size_t kMaxLoadDen = 10;

  static int log2(size_t n) {
    int l = 0;
    while ((size_t{1} << l) < n) ++l;
    return l;
  }

  // Fibonacci hashing on the HIGH bits: shards route on the key's low bits, so within one shard
  // those bits are correlated and must not pick the slot.
  size_t home(uint64_t key) const {
    return static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> shift_) & mask_;
  }

  struct Free {
    void operator()(Record* p) const { std::free(p); }
  };
  static constexpr size_t kHugePage = size_t{2} << 20;

  // Tables of 2 MiB and more are 2 MiB-aligned and advised to use transparent huge pages: with
  // 4 KiB pages every random probe into a large table would also miss the TLB.
  void allocate(size_t cap) {
    size_t bytes = cap * sizeof(Record);
    const size_t align = bytes >= kHugePage ? kHugePage : 64;
    bytes = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, bytes);
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (align == kHugePage) madvise(p, bytes, MADV_HUGEPAGE);
#endif
    Record* records = static_cast<Record*>(p);
    std::uninitialized_default_construct_n(records, cap);
    slots_.reset(records);
    capacity_ = cap;
    mask_ = cap - 1;
    shift_ = 64 - log2(cap);
  }

  void grow() {
    std::unique_ptr<Record[], Free> old = std::move(slots_);
    const size_t old_cap = capacity_;
    allocate(old_cap * 2);
    for (size_t j = 0; j < old_cap; ++j) {
      const Record& r = old[j];
      if (r.key == 0) continue;
      size_t i = home(r.key);
      while (slots_[i].key != 0) i = (i + 1) & mask_;
      slots_[i] = r;
    }
  }

  std::unique_ptr<Record[], Free> slots_;
  size_t capacity_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace fw
