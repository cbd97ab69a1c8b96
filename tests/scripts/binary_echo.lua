-- Returns KEYS and ARGV unchanged (binary safety).
return {KEYS[1], ARGV[1], #ARGV[1]}
