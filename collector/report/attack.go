package report

import (
	"strings"
)

// technique is an ATT&CK (Enterprise) technique or sub-technique: its name
// and the ids of its tactics, as https://attack.mitre.org/techniques/ID/
// gives them: the ids the queries cite and their parents (a test keeps
// the table covering them).
type technique struct {
	name    string
	tactics []string
}

var techniques = map[string]technique{
	"T1027":     {"Obfuscated Files or Information", []string{"TA0005"}},
	"T1027.001": {"Binary Padding", []string{"TA0005"}},
	"T1053":     {"Scheduled Task/Job", []string{"TA0002", "TA0003", "TA0004"}},
	"T1053.003": {"Cron", []string{"TA0002", "TA0003", "TA0004"}},
	"T1059":     {"Command and Scripting Interpreter", []string{"TA0002"}},
	"T1059.004": {"Unix Shell", []string{"TA0002"}},
	"T1105":     {"Ingress Tool Transfer", []string{"TA0011"}},
	"T1543":     {"Create or Modify System Process", []string{"TA0003", "TA0004"}},
	"T1546":     {"Event Triggered Execution", []string{"TA0004", "TA0003"}},
	"T1546.016": {"Installer Packages", []string{"TA0004", "TA0003"}},
	"T1562":     {"Impair Defenses", []string{"TA0005"}},
	"T1562.001": {"Disable or Modify Tools", []string{"TA0005"}},
}

// tactics are the names of the tactics above
// (https://attack.mitre.org/tactics/ID/).
var tactics = map[string]string{
	"TA0002": "Execution",
	"TA0003": "Persistence",
	"TA0004": "Privilege Escalation",
	"TA0005": "Defense Evasion",
	"TA0011": "Command and Control",
}

// threatECS is ECS's threat fields for a query's ATT&CK ids: a sub-technique
// (T1546.016) goes in threat.technique.subtechnique and its parent (T1546)
// in threat.technique; the tactics are those of every id. ECS keeps each
// as parallel arrays of id, name and reference; an id this table does not
// know keeps its id and reference, and its group then carries no names
// rather than names that no longer line up with the ids.
func threatECS(ids []string) map[string]any {
	var techs, subs, tacts []string
	add := func(list *[]string, id string) {
		for _, x := range *list {
			if x == id {
				return
			}
		}
		*list = append(*list, id)
	}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		parent, _, isSub := strings.Cut(id, ".")
		add(&techs, parent)
		if isSub {
			add(&subs, id)
		}
		for _, ta := range techniques[id].tactics {
			add(&tacts, ta)
		}
	}
	if len(techs) == 0 {
		return nil
	}
	techName := func(id string) (string, bool) { t, ok := techniques[id]; return t.name, ok }
	tech := attackGroup(techs, techName, techniqueURL)
	if len(subs) > 0 {
		tech["subtechnique"] = attackGroup(subs, techName, techniqueURL)
	}
	threat := map[string]any{"framework": "MITRE ATT&CK", "technique": tech}
	if len(tacts) > 0 {
		threat["tactic"] = attackGroup(tacts, func(id string) (string, bool) { n, ok := tactics[id]; return n, ok },
			func(id string) string { return "https://attack.mitre.org/tactics/" + id + "/" })
	}
	return threat
}

// attackGroup is one ECS threat group: parallel id, reference and (when
// every id is known) name arrays.
func attackGroup(ids []string, name func(string) (string, bool), ref func(string) string) map[string]any {
	names, refs := make([]string, len(ids)), make([]string, len(ids))
	known := true
	for i, id := range ids {
		n, ok := name(id)
		names[i], refs[i], known = n, ref(id), known && ok
	}
	g := map[string]any{"id": ids, "reference": refs}
	if known {
		g["name"] = names
	}
	return g
}

// techniqueURL is the ATT&CK page of a technique or sub-technique
// (T1546.016 is /techniques/T1546/016/).
func techniqueURL(id string) string {
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}
