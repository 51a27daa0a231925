//! Weak topological order (Bourdoncle 1993): a hierarchical ordering of the blocks in which every
//! cycle lies inside a component whose head is its first element.

/// An element of a weak topological order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    /// A block outside any cycle at this level.
    Vertex(usize),
    /// A strongly connected part: its head and the order of the rest.
    Component(usize, Vec<Elem>),
}

struct Builder<'a> {
    succs: &'a [Vec<usize>],
    dfn: Vec<u32>,
    stack: Vec<usize>,
    num: u32,
}

const DONE: u32 = u32::MAX;

impl Builder<'_> {
    fn visit(&mut self, v: usize, out: &mut Vec<Elem>) -> u32 {
        self.stack.push(v);
        self.num += 1;
        self.dfn[v] = self.num;
        let mut head = self.num;
        let mut is_loop = false;
        for &w in &self.succs[v] {
            let min = if self.dfn[w] == 0 {
                self.visit(w, out)
            } else {
                self.dfn[w]
            };
            if min <= head {
                head = min;
                is_loop = true;
            }
        }
        if head == self.dfn[v] {
            self.dfn[v] = DONE;
            let mut e = self.stack.pop().unwrap_or(v);
            if is_loop {
                while e != v {
                    self.dfn[e] = 0;
                    e = self.stack.pop().unwrap_or(v);
                }
                let c = self.component(v);
                out.push(c);
            } else {
                out.push(Elem::Vertex(v));
            }
        }
        head
    }

    fn component(&mut self, v: usize) -> Elem {
        let mut body = Vec::new();
        for &w in &self.succs[v] {
            if self.dfn[w] == 0 {
                self.visit(w, &mut body);
            }
        }
        body.reverse();
        Elem::Component(v, body)
    }
}

/// The weak topological order of `n` nodes reachable from node 0.
#[must_use]
pub fn build(succs: &[Vec<usize>]) -> Vec<Elem> {
    let n = succs.len();
    if n == 0 {
        return Vec::new();
    }
    let mut b = Builder {
        succs,
        dfn: vec![0; n],
        stack: Vec::new(),
        num: 0,
    };
    let mut out = Vec::new();
    b.visit(0, &mut out);
    out.reverse();
    out
}

/// Every node of an element (head and body, recursively).
pub fn nodes(e: &Elem, out: &mut Vec<usize>) {
    match e {
        Elem::Vertex(v) => out.push(*v),
        Elem::Component(h, body) => {
            out.push(*h);
            for x in body {
                nodes(x, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_loops() {
        let g: Vec<Vec<usize>> = vec![vec![1], vec![2], vec![1, 3], vec![]];
        let w = build(&g);
        assert_eq!(
            w,
            vec![
                Elem::Vertex(0),
                Elem::Component(1, vec![Elem::Vertex(2)]),
                Elem::Vertex(3)
            ]
        );
    }
}
