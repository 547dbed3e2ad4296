package ui

import (
	"github.com/charmbracelet/bubbles/key"
)

// keyMap holds every key binding of the TUI.
type keyMap struct {
	Yes, No, Enter, Up, Down, Quit, ForceQuit, Help, Reveal, Retry key.Binding
	// PageUp and PageDown scroll what does not fit; Copy and CopyRecords
	// put the command to run next, or the records to publish, on the
	// clipboard (OSC 52).
	PageUp, PageDown, Copy, CopyRecords key.Binding
	// Back is Shift+Tab: the previous answer, while the first questions
	// are asked.
	Back key.Binding
}

func defaultKeyMap() keyMap {
	return keyMap{
		Yes:         key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y/enter", "approve")),
		No:          key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "decline")),
		Enter:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Quit:        key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Reveal:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "show password")),
		Retry:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", " ", "f"), key.WithHelp("pgdn", "page down")),
		Copy:        key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy command")),
		CopyRecords: key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "copy records")),
		Back:        key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "back")),
	}
}

// helpKeys adapts the keys that work now to help.KeyMap.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp returns the keys that work now.
func (h helpKeys) ShortHelp() []key.Binding { return h.short }

// FullHelp returns the keys that work now, in columns.
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
