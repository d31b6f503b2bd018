package store

// Hold takes container id's lock, as Update does, for an operation that
// must not overlap a change of the container (cp on a stopped container's
// writable layer, which a start would mount too), and returns the record
// read under it, checked against the kernel, and the lock's release.
// ErrNotFound when the container is gone.
func (s *Store) Hold(id string) (*Container, func(), error) {
	lock, err := s.lock(id)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.read(id)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	s.settle(c)
	return c, func() { lock.Close() }, nil
}
