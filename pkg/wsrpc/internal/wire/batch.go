package wire

// IsArray reports whether a message Parse validated is a JSON array (a batch).
func IsArray(data []byte) bool { return FirstByte(data) == '[' }

// ArrayMembers returns the members of a JSON array that Parse validated (a batch), as
// slices of data, at most limit of them: more reports over (and the members are nil).
func ArrayMembers(data []byte, limit int) (members [][]byte, over bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return nil, false
	}
	for i < len(data) {
		end, ok := validValue(data, i, 1)
		if !ok {
			return nil, false // not validated: cannot happen for Parse's input
		}
		if len(members) == limit {
			return nil, true
		}
		members = append(members, data[i:end])
		i = skipSpace(data, end)
		if i >= len(data) || data[i] == ']' {
			break
		}
		i = skipSpace(data, i+1) // the comma
	}
	return members, false
}

// AppendBatch appends a JSON array of the encoded messages msgs to dst.
func AppendBatch(dst []byte, msgs [][]byte) []byte {
	dst = append(dst, '[')
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m...)
	}
	return append(dst, ']')
}
