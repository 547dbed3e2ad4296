package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// multiLineQuestions are the questions whose answer is prose a few lines
// long: a field that wraps what is typed, so all of it can be read.
var multiLineQuestions = map[string]bool{"use-case": true}

// newArea is the multi-line field, in the TUI's styles (no colour of its
// own, so NO_COLOR holds): Enter submits, Alt+Enter or Ctrl+J starts a
// new line.
func newArea(r *lipgloss.Renderer, st *Styles, placeholder string, animate bool) textarea.Model {
	a := textarea.New()
	a.ShowLineNumbers = false
	a.Prompt = "│ "
	a.Placeholder = placeholder
	plain := r.NewStyle()
	s := textarea.Style{Base: plain, CursorLine: plain, CursorLineNumber: plain, EndOfBuffer: plain, LineNumber: plain,
		Placeholder: st.Dim, Prompt: st.Selected, Text: plain}
	a.FocusedStyle, a.BlurredStyle = s, s
	a.Cursor.Style = r.NewStyle().Reverse(true)
	a.Cursor.TextStyle = plain
	if !animate {
		a.Cursor.SetMode(cursor.CursorStatic)
	}
	a.KeyMap.InsertNewline = key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"), key.WithHelp("alt+enter", "new line"))
	a.CharLimit = 0
	a.SetHeight(4)
	a.Focus()
	return a
}

// areaKey handles a key in the multi-line field: text goes in as typed,
// anything else is the field's own key.
func (m *model) areaKey(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyRunes && !k.Alt {
		m.area.InsertString(strings.NewReplacer("\r\n", " ", "\r", " ", "\t", " ").Replace(string(k.Runes)))
		return nil
	}
	var cmd tea.Cmd
	m.area, cmd = m.area.Update(k)
	return cmd
}
